// keepalived on lb hosts: VRRPv3 holds the site's image VIP (and its IPv6 VIP, in an instance of
// its own synced with the first) on one of the two lb hosts.
//
// Failover design. Both instances start in state BACKUP (keepalived requires it for nopreempt,
// and it is what preempt_delay acts on); the priorities only decide who wins an election. The
// haproxy check is an *unweighted* track_script: when it fails, the instance goes to FAULT, sends
// a priority-0 advert and drops the VIP, and the peer takes over at once. A weighted script would
// only lower the master's priority, and a nopreempt (or preempt_delay) backup never takes over
// from a lower-priority master that still advertises, so the VIP would stay on the dead haproxy.
// With FAULT the result does not depend on the priorities or the preempt mode.
//
// Draining an lb host uses the same FAULT: a second track file, written by `anycdn drain` (or set
// at every start for a host drained in the model). A lowered priority would not do: a nopreempt
// (or preempt_delay) backup never takes over from a lower-priority master that still advertises.
//
// aws sites have no multicast: the pair talks unicast, and on becoming master a notify hook moves
// the VIP (a secondary private address) and the Elastic IP to this host's ENI.
import { hasRole, isDrained, lbHosts, vrrpPriority } from '../model/facts.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { endpointUrl, LOOPBACK4, unitEndpoints, withPurpose } from './endpoints.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { blank, block, stmt, type Node } from './syntax/brace.ts';
import { bare, emitKeepalived, ident, quote } from './syntax/keepalived.ts';
import { assign, emitSh, sh } from './syntax/shell.ts';
import { ip, num, prefix } from './syntax/word.ts';
import type { RenderedFile, Renderer } from './types.ts';

const CHECK_SCRIPT = 'haproxy_alive';
const TRACK_FILE = 'haproxy_stopped';
/** The track file `anycdn drain` writes 1 into (and a model drain at every start): FAULT, the VIP leaves. */
export const VRRP_DRAIN_TRACK = 'anycdn_drain';
const DRAIN_FILE = VRRP_DRAIN_TRACK;

export const renderKeepalived: Renderer = (t, site, host) => {
  if (!hasRole(host, 'lb')) return [];
  const files: RenderedFile[] = [
    {
      site: site.id,
      host: host.name,
      path: PATHS.keepalivedConf,
      content: fileText([...headerLines(t, site.id, '#'), '', ...emitKeepalived(keepalivedTree(t, site, host))]),
      mode: 0o644,
      check: 'keepalived',
    },
  ];
  if (site.platform === 'aws') files.push(eipTakeover(t, site, host));
  if (t.cdn.monitoring) files.push(vrrpStateScript(t, site, host));
  return files;
};

/** The vrrp_instance's name: keepalived passes it to the notify script. */
export function vrrpInstanceName(site: Site): string {
  return `vip_${site.id.replace(/-/g, '_')}`;
}

export function keepalivedTree(t: Topology, site: Site, host: Host): Node[] {
  const monitored = t.cdn.monitoring !== undefined;
  const vip = site.vip;
  const common: Node[] = [
    stmt('state', 'BACKUP'),
    stmt('interface', bare(host.interface)),
    stmt('virtual_router_id', vip.virtualRouterId),
    stmt('priority', vrrpPriority(site, host)),
    stmt('advert_int', num(advertIntSec(vip.advertIntervalMs))),
    vip.preempt === false ? stmt('nopreempt') : vip.preempt.delaySec > 0 ? stmt('preempt_delay', vip.preempt.delaySec) : { kind: 'comment', text: 'preempts at once' },
  ];
  const instance: Node[] = [...common];
  if (site.platform !== 'aws') {
    // The new master's gratuitous ARPs (unsolicited NAs) are what move the VIP. keepalived sends a
    // set at once and a second one garp_master_delay later (default 5 s). A Linux router ignores a
    // new link-layer address within locktime (1 s) of the entry's last update, so the first set
    // can be lost; the second, 1 s on, is then what moves the clients, and 5 s was a 5 s stall.
    instance.push(stmt('garp_master_delay', 1));
  }
  if (site.platform === 'aws') {
    instance.push(
      { kind: 'comment', text: 'no multicast in a VPC: adverts go to the peer directly' },
      stmt('unicast_src_ip', ip(host.address)),
      block(['unicast_peer'], lbPeers(site, host).map((p) => stmt(ip(p.address)))),
    );
  }
  instance.push(
    block(['virtual_ipaddress'], [stmt(prefix(`${vip.address}/32`), 'dev', bare(host.interface))]),
    block(['track_script'], [stmt(CHECK_SCRIPT)]),
    block(['track_file'], [stmt(TRACK_FILE), stmt(DRAIN_FILE)]),
  );
  if (site.platform === 'aws') instance.push(stmt('notify_master', quote(PATHS.eipTakeover)));
  // VRRP carries one family per instance: the IPv6 VIP has an instance of its own (VRRPv3 over
  // IPv6, from the link-local address; the same router id is free there), and a sync group keeps
  // both on one host, so haproxy answers both families from the same master. Both track the
  // drain file: a drained host holds neither VIP.
  const v6: Node[] = vip.address6
    ? [
        blank,
        block(['vrrp_instance', ident(`vip6-${site.id}`)], [
          ...common,
          block(['virtual_ipaddress'], [stmt(prefix(`${vip.address6}/128`), 'dev', bare(host.interface))]),
          block(['track_script'], [stmt(CHECK_SCRIPT)]),
          block(['track_file'], [stmt(TRACK_FILE), stmt(DRAIN_FILE)]),
        ]),
        blank,
        block(['vrrp_sync_group', ident(`vips-${site.id}`)], [block(['group'], [stmt(ident(`vip-${site.id}`)), stmt(ident(`vip6-${site.id}`))])]),
      ]
    : [];
  if (monitored) instance.push({ kind: 'comment', text: 'every state change, for Prometheus (node-exporter textfile)' }, stmt('notify', quote(PATHS.vrrpState)));

  // haproxy's stats frontend on loopback, whatever its stats address (endpoints.ts).
  const local = withPurpose(unitEndpoints(t, site, host, 'haproxy'), 'haproxy-stats').find((e) => e.address === LOOPBACK4);
  if (!local) throw new Error(`internal: haproxy on ${host.name} has no stats endpoint on loopback`);
  const aliveUrl = endpointUrl(local);
  return [
    block(['global_defs'], [
      stmt('router_id', bare(host.name)),
      stmt('vrrp_version', 3),
      { kind: 'comment', text: 'root: keepalived 2.2.7 -t dies of SIGTERM when scripts run as any other user (acassen/keepalived#2617)' },
      stmt('script_user', 'root'),
      stmt('enable_script_security'),
    ]),
    blank,
    { kind: 'comment', text: 'Fails when haproxy is dead or hung on a live host; unweighted, so the instance goes to FAULT.' },
    block(['vrrp_script', CHECK_SCRIPT], [
      stmt('script', quote(`/usr/bin/curl -fsS -o /dev/null --max-time 0.8 ${aliveUrl}`)),
      stmt('interval', 1),
      stmt('timeout', 1),
      stmt('fall', 2),
      stmt('rise', 2),
      stmt('weight', 0),
    ]),
    blank,
    { kind: 'comment', text: "haproxy's unit writes 1 here when haproxy exits (SIGKILL included): FAULT at once." },
    block(['vrrp_track_file', TRACK_FILE], [stmt('file', quote(PATHS.haproxyStopped)), stmt('weight', 0), stmt('init_file', 0)]),
    blank,
    {
      kind: 'comment',
      text: isDrained(host)
        ? 'This host is drained (state: drained): 1 at every start, FAULT, the peer holds the VIP. `anycdn undrain` writes 0 until the next start.'
        : '`anycdn drain` writes 1 here: FAULT, a priority-0 advert, and the peer takes the VIP at once in every preempt mode.',
    },
    block(['vrrp_track_file', DRAIN_FILE], [stmt('file', quote(PATHS.vrrpDrain)), stmt('weight', 0), isDrained(host) ? stmt('init_file', 1, 'overwrite') : stmt('init_file', 0)]),
    blank,
    block(['vrrp_instance', ident(`vip-${site.id}`)], instance),
    ...v6,
    // ident() of vip-<id> is vrrpInstanceName(site): keepalived's notify and the unit's ExecStopPost name it.
  ];
}

/** keepalived takes advert_int in seconds; VRRPv3 counts centiseconds. */
export function advertIntSec(ms: number): string {
  return (ms / 1000).toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}

function lbPeers(site: Site, host: Host): Host[] {
  return lbHosts(site).filter((h) => h.name !== host.name);
}

/**
 * notify_master on aws sites: assign the VIP to this host's ENI (taking it from the peer) and
 * associate the Elastic IP with it. IMDSv2 only. The ENI is the one behind the VRRP interface.
 */
function eipTakeover(t: Topology, site: Site, host: Host): RenderedFile {
  const eip = site.vip.elasticIp;
  if (!eip || !site.region) throw new Error(`internal: aws site ${site.id} without elasticIp or region passed the model rules`);
  const vars = sh`${assign('VIP', site.vip.address)}
${assign('ALLOCATION_ID', eip.allocationId)}
${assign('REGION', site.region)}
${assign('INTERFACE', host.interface)}`;
  return {
    site: site.id,
    host: host.name,
    path: PATHS.eipTakeover,
    content: fileText(emitSh(['#!/bin/sh', ...headerLines(t, site.id, '#'), ...EIP_INTRO, sh`set -u
PATH=/usr/local/bin:/usr/bin:/bin
`, vars, '', EIP_BODY])),
    mode: 0o755,
    check: 'shell',
  };
}

const EIP_INTRO = [
  '# keepalived runs this when this host becomes VRRP master: it moves the image VIP (a secondary',
  '# private address) and the Elastic IP in front of it to this host. Needs the instance role to allow',
  '# ec2:AssignPrivateIpAddresses and ec2:AssociateAddress.',
];

const EIP_BODY = sh`IMDS=http://169.254.169.254/latest

log() { logger -t anycdn-eip-takeover -- "$*" 2>/dev/null || echo "anycdn-eip-takeover: $*" >&2; }

takeover() {
	token=$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/api/token") || return 1
	mac=$(cat "/sys/class/net/$INTERFACE/address") || return 1
	eni=$(curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/network/interfaces/macs/$mac/interface-id") || return 1
	aws ec2 assign-private-ip-addresses --region "$REGION" --allow-reassignment \
		--network-interface-id "$eni" --private-ip-addresses "$VIP" >/dev/null || return 1
	aws ec2 associate-address --region "$REGION" --allocation-id "$ALLOCATION_ID" \
		--network-interface-id "$eni" --private-ip-address "$VIP" --allow-reassociation >/dev/null || return 1
}

for attempt in 1 2 3 4 5; do
	if takeover; then
		log "VIP $VIP and Elastic IP $ALLOCATION_ID moved to $eni"
		exit 0
	fi
	log "attempt $attempt failed"
	sleep "$attempt"
done
log "giving up: the Elastic IP may still point at the peer"
exit 1`;

/**
 * keepalived's notify script (with `monitoring`): keepalived runs it on every state change with
 * INSTANCE|GROUP, the name, the state and the priority, and keepalived's unit runs it with STOP
 * after every exit. It writes anycdn_vrrp_master (1 on the host that holds the VIP) for
 * node-exporter's textfile collector, atomically (write, then rename).
 */
function vrrpStateScript(t: Topology, site: Site, host: Host): RenderedFile {
  return {
    site: site.id,
    host: host.name,
    path: PATHS.vrrpState,
    content: fileText(
      emitSh([
        '#!/bin/sh',
        ...headerLines(t, site.id, '#'),
        sh`set -u
${assign('DIR', PATHS.nodeExporterTextfiles)}
[ "$1" = INSTANCE ] || exit 0
master=0
[ "$3" = MASTER ] && master=1
tmp="$DIR/.anycdn-vrrp.prom.$$"
{
	echo '# HELP anycdn_vrrp_master 1 while keepalived holds the image VIP on this host.'
	echo '# TYPE anycdn_vrrp_master gauge'
	printf 'anycdn_vrrp_master{vrrp_instance="%s",state="%s"} %s\n' "$2" "$3" "$master"
} > "$tmp" || exit 1`,
        '# keepalived runs scripts with umask 077; node-exporter reads as its own user',
        sh`chmod 644 "$tmp" && mv -f "$tmp" "$DIR/anycdn-vrrp.prom"`,
      ]),
    ),
    mode: 0o755,
    check: 'shell',
  };
}
