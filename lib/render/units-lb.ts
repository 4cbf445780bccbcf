// Units for lb hosts (haproxy, keepalived). Both run in the foreground under systemd, check their
// config before every start, and restart whenever they die: keepalived's track script moves the
// VIP away while haproxy is down, and haproxy coming back brings the host back into the pair.
import type { Host, Site, Topology } from '../model/schema.ts';
import { dirname } from 'node:path';
import { PATHS } from './paths.ts';
import { exec, MAINPID, sh, type UnitValue } from './syntax/unit.ts';
import { vrrpInstanceName } from './keepalived.ts';
import { hasRole } from '../model/facts.ts';
import { fetchesCert } from './acme-facts.ts';
import type { UnitSpec } from './unit-spec.ts';

/** The kernel's default fs.nr_open: the most descriptors a process may have on a stock machine. */
export const KERNEL_NR_OPEN = 1_048_576;

/**
 * The open files haproxy cannot start without. It sets its own limit to the descriptors it may use
 * (two per connection, maxconn x 2, plus its listeners, its stats socket and three per thread:
 * 2 x maxconn + 35 on two cores) and exits when the hard limit is lower (strict-limits, on by
 * default since 2.6). 1024 covers the rest on any number of threads.
 */
export function haproxyMinNofile(maxConn: number): number {
  return haproxyNofileSource(maxConn).base + haproxyNofileSource(maxConn).perUnit * maxConn;
}

/** Where a unit's minNofile comes from in the model: `base + perUnit x value` of `field`. */
export interface NofileSource {
  field: string;
  value: number;
  perUnit: number;
  base: number;
}

/** haproxyMinNofile as the model field it follows, for a refusal that names the field. */
export function haproxyNofileSource(maxConn: number): NofileSource {
  return { field: 'haproxy.maxConn', value: maxConn, perUnit: 2, base: 1024 };
}

/** The model field a unit's minNofile follows at a site (haproxy: haproxy.maxConn), if any. */
export function nofileSource(site: Site, unit: string): NofileSource | undefined {
  return unit === 'haproxy' ? haproxyNofileSource(site.haproxy.maxConn) : undefined;
}

/**
 * LimitNOFILE= of haproxy's unit: what it needs, never below the kernel's default fs.nr_open, which
 * every machine grants. Above it (maxConn over 523,776) the host's fs.nr_open must be as high:
 * systemd as PID 1 raises it at boot (its bump-proc-sys-fs-nr-open build option).
 */
export function haproxyNofile(maxConn: number): number {
  return Math.max(KERNEL_NR_OPEN, haproxyMinNofile(maxConn));
}

export function lbUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  if (!hasRole(host, 'lb')) return [];
  const haproxyCheck = exec('/usr/sbin/haproxy', '-c', '-q', '-f', PATHS.haproxyConf);
  const fetches = fetchesCert(t, site, host);
  return [
    {
      name: 'haproxy',
      description: 'HAProxy: the image VIP in front of the site caches (anycdn)',
      after: ['network-online.target', ...(fetches ? ['anycdn-cert-fetch.service'] : [])],
      // With acme, every start fetches the newest certificate first (a failure keeps the one on disk).
      ...(fetches ? { wants: ['anycdn-cert-fetch.service'] } : {}),
      minNofile: haproxyMinNofile(site.haproxy.maxConn),
      service: [
        // -Ws: master-worker in the foreground with sd_notify; USR2 reloads without dropping connections.
        ['Type', 'notify'],
        ['ExecStartPre', exec('/usr/sbin/sysctl', '-q', '-p', PATHS.lbSysctl)],
        ['ExecStartPre', haproxyCheck],
        ['ExecStartPre', sh(`mkdir -p ${dirname(PATHS.haproxyStopped)} && echo 0 > ${PATHS.haproxyStopped}`)],
        ['ExecStart', exec('/usr/sbin/haproxy', '-Ws', '-f', PATHS.haproxyConf)],
        // The notAfter of the certificate it loaded, for the expiry alerts; never fails the start.
        ...(site.haproxy.https && t.cdn.monitoring ? ([['ExecStartPost', { argv: [PATHS.certInstall, '--metrics'], ignoreFailure: true }]] as [string, UnitValue][]) : []),
        ['ExecReload', haproxyCheck],
        ['ExecReload', exec('/bin/kill', '-USR2', MAINPID)],
        // After every exit, SIGKILL included: keepalived sees the file change (inotify) and goes to
        // FAULT at once, instead of after its script's fall x interval (about 2 s).
        ['ExecStopPost', sh(`echo 1 > ${PATHS.haproxyStopped}`)],
        ['KillMode', 'mixed'],
        ['SuccessExitStatus', '143'],
        // haproxy asks for its descriptors itself and, since 2.6 (strict-limits), refuses to start
        // without them: see haproxyMinNofile.
        ['LimitNOFILE', String(haproxyNofile(site.haproxy.maxConn))],
        ['Restart', 'always'],
        ['RestartSec', '1'],
        ['RuntimeDirectory', 'haproxy'],
        // haproxy logs every request to the journal (log stdout, option httplog). journald's
        // default limit per service, 10,000 messages per 30 s (RateLimitBurst, scaled by free
        // disk), would drop most of a busy VIP's access log: this unit's log is not limited.
        ['LogRateLimitIntervalSec', '0'],
      ],
    },
    {
      name: 'keepalived',
      description: 'keepalived: VRRP holder of the image VIP (anycdn)',
      after: ['network-online.target', 'haproxy.service'],
      service: [
        ['Type', 'simple'],
        ['ExecStartPre', exec('/usr/sbin/keepalived', '-t', '-f', PATHS.keepalivedConf)],
        [
          'ExecStart',
          exec('/usr/sbin/keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp', '-f', PATHS.keepalivedConf, '-p', PATHS.keepalivedPid, '-r', PATHS.keepalivedVrrpPid),
        ],
        ['ExecReload', exec('/bin/kill', '-HUP', MAINPID)],
        // A killed keepalived (SIGKILL, OOM) leaves the VIP on the interface, and a restarted one
        // does not remove it: two hosts would answer ARP for the VIP. After every exit the VIP
        // leaves this host; '-' because a clean stop has removed it already.
        ['ExecStopPost', { argv: ['/usr/sbin/ip', 'addr', 'del', `${site.vip.address}/32`, 'dev', host.interface], ignoreFailure: true }],
        ...(site.vip.address6
          ? [['ExecStopPost', { argv: ['/usr/sbin/ip', '-6', 'addr', 'del', `${site.vip.address6}/128`, 'dev', host.interface], ignoreFailure: true }] as [string, UnitValue]]
          : []),
        // Prometheus sees this host hold no VIP, also after a SIGKILL (notify never ran then).
        ...(t.cdn.monitoring ? ([['ExecStopPost', exec(PATHS.vrrpState, 'INSTANCE', vrrpInstanceName(site), 'STOP', '0')]] as [string, UnitValue][]) : []),
        // SIGTERM makes the master send a priority-0 advert: the peer takes the VIP at once.
        ['KillMode', 'process'],
        ['Restart', 'always'],
        ['RestartSec', '1'],
        ['RuntimeDirectory', 'keepalived'],
      ],
    },
  ];
}
