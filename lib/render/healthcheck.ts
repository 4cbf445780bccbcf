// The health checker on dns hosts: a POSIX sh loop (Debian's dash, kdig, curl and ip; no Node on
// the hosts). It puts the anycast addresses on lo after `rise` consecutive good probes and takes
// them off after `fall` bad ones; bird exports them only while they are there. A probe is good
// when the local Knot answers the image host with this site's VIP *and* the VIP serves the health
// path. DNS and HTTP are probed in parallel, so a hung probe costs one timeout, not two.
// Fate sharing: the unit's ExecStopPost withdraws whenever the checker dies, even on SIGKILL.
import { fileText, headerLines } from './header.ts';
import { anycastFamilies } from './bird.ts';
import { publishedVip } from './knot.ts';
import { PATHS } from './paths.ts';
import { shAssignments } from './syntax/shell.ts';
import { hasRole, type Renderer } from './types.ts';

export const renderHealthcheck: Renderer = (t, site, host) => {
  if (!hasRole(host, 'dns')) return [];
  const hc = t.cdn.healthcheck;
  const vars = shAssignments([
    ['ANYCAST', anycastFamilies(t).map((f) => f.prefix).join(' ')],
    ['QUERY_NAME', t.cdn.imageHost],
    ['EXPECT', publishedVip(site)],
    ['VIP_URL', `http://${site.vip.address}${hc.path}`],
    ['INTERVAL', seconds(hc.intervalMs)],
    ['TIMEOUT', seconds(hc.timeoutMs)],
    ['FALL', hc.fall],
    ['RISE', hc.rise],
  ]);
  return [
    {
      site: site.id,
      host: host.name,
      path: PATHS.healthcheck,
      content: fileText(['#!/bin/sh', ...headerLines(t, site.id, '#'), 'set -u', '', ...vars, '', ...SCRIPT_BODY]),
      mode: 0o755,
      check: 'shell',
    },
  ];
};

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}

const SCRIPT_BODY = String.raw`log() { echo "anycdn-healthcheck: $*" >&2; }

announce() {
	for p in $ANYCAST; do ip addr replace "$p" dev lo || return 1; done
}

withdraw() {
	for p in $ANYCAST; do
		if ip addr show dev lo | grep -q " $p "; then ip addr del "$p" dev lo; fi
	done
}

probe_dns() {
	# TCP, not UDP: a dead Knot refuses at once, where UDP would wait out the timeout.
	answer=$(timeout "$TIMEOUT" kdig +tcp +short +retry=0 @127.0.0.1 "$QUERY_NAME" A 2>/dev/null) || return 1
	[ "$answer" = "$EXPECT" ]
}

probe_http() {
	curl -fsS -o /dev/null --noproxy '*' --max-time "$TIMEOUT" "$VIP_URL" 2>/dev/null
}

probe() {
	probe_dns &
	dns_pid=$!
	probe_http
	http=$?
	wait "$dns_pid"
	dns=$?
	[ "$dns" -eq 0 ] && [ "$http" -eq 0 ]
}

run() {
	trap 'withdraw; exit 0' INT TERM
	withdraw
	state=down good=0 bad=0
	log "started: withdrawn until $RISE good probes"
	while :; do
		if probe; then
			good=$((good + 1)) bad=0
			if [ "$state" = down ] && [ "$good" -ge "$RISE" ]; then
				announce && state=up && log "announce $ANYCAST after $good good probes"
			fi
		else
			bad=$((bad + 1)) good=0
			if [ "$state" = up ] && [ "$bad" -ge "$FALL" ]; then
				withdraw
				state=down
				log "withdraw $ANYCAST after $bad failed probes"
			fi
		fi
		sleep "$INTERVAL"
	done
}

mode=usage
[ "$#" -gt 0 ] && mode=$1
case "$mode" in
run) run ;;
withdraw) withdraw ;;
probe) probe ;;
*) echo "usage: $0 run|withdraw|probe" >&2; exit 2 ;;
esac`.split('\n');
