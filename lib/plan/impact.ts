// The impact classes of a planned change: what the operator runs to apply it, and what the service
// feels. A change is classified by what it changes in the rendered files (lib/plan/classify.ts), so
// a model field such as `state: drained` needs no class of its own: a cache's weight 0 is a
// haproxy-reload that names the share of the ring it leaves, an lb host's drain track file a
// keepalived-vip-move applied in the runtime drain's order, a dns host's drain the checker's
// reload. Where a class depends on the daemon's behaviour, the version assumed is Debian 12's
// (ASSUMED_VERSIONS), as installed by the packages in lib/render/catalog.ts.

export const ASSUMED_VERSIONS = {
  bird: 'bird2 2.0.12',
  haproxy: 'haproxy 2.6.12',
  keepalived: 'keepalived 2.2.7',
  knot: 'knot 3.2.6',
  mtail: 'mtail 3.0.0~rc50',
  nginx: 'nginx 1.22.1',
  prometheus: 'prometheus 2.42.0',
  squid: 'squid 5.7',
} as const;

export type Daemon = keyof typeof ASSUMED_VERSIONS;

interface ImpactInfo {
  /** Orders classes from harmless to disruptive; a step shows its highest. */
  rank: number;
  /** What applying it costs the service, in a few words. */
  effect: string;
  /** Take the host out of service (`anycdn drain`) before applying and put it back after. */
  drainFirst: boolean;
  /** The daemon whose behaviour the class assumes (its version is printed with the class). */
  assumes?: Daemon;
}

export const IMPACTS = {
  'file-only': { rank: 0, effect: 'nothing to run: the file is read at its next use', drainFirst: false },
  'sysctl-apply': { rank: 1, effect: 'sysctl --system; no restart', drainFirst: false },
  'bird-configure': { rank: 1, effect: 'birdc configure; BGP sessions stay up', drainFirst: false, assumes: 'bird' },
  'knot-zone-reload': { rank: 1, effect: 'knotc zone-reload; answers continue, the SOA serial rises', drainFirst: false, assumes: 'knot' },
  'knot-reload': { rank: 1, effect: 'knotc reload; answers continue', drainFirst: false, assumes: 'knot' },
  'haproxy-reload': { rank: 1, effect: 'hitless reload (master-worker, USR2): new workers take the listeners, old ones finish their requests', drainFirst: false, assumes: 'haproxy' },
  'healthcheck-reload': {
    rank: 1,
    effect: 'reload (SIGHUP) of the health checker: it takes its new drain settings and keeps its announcements; a drain set in the model begins gracefully (graceful-shutdown community first, withdrawn drain.withdrawAfterSec later), one taken out announces again',
    drainFirst: false,
  },
  'mtail-reload': { rank: 1, effect: 'reload (SIGHUP): mtail loads the changed program; the counters it still declares keep their values', drainFirst: false, assumes: 'mtail' },
  'thumbnailer-reload': {
    rank: 1,
    effect: 'reload (SIGHUP) of anycdn-thumbnailer: new settings and workers, the transforms under way finish; derived images already cached keep their old settings until they expire',
    drainFirst: false,
  },
  'prometheus-reload': { rank: 1, effect: 'reload (SIGHUP): Prometheus re-reads its scrape targets and rules and keeps its data', drainFirst: false, assumes: 'prometheus' },
  'keepalived-reload': { rank: 1, effect: 'reload (HUP) that keeps the VRRP state; the VIP stays where it is', drainFirst: false, assumes: 'keepalived' },
  'nginx-reload': { rank: 1, effect: 'reload (HUP); the cache is kept', drainFirst: false, assumes: 'nginx' },
  'squid-reconfigure': { rank: 1, effect: 'squid -k reconfigure; the cache is kept', drainFirst: false, assumes: 'squid' },
  'cloud-add': { rank: 1, effect: 'new cloud resources', drainFirst: false },
  'cloud-update': { rank: 1, effect: 'cloud resources updated in place, no interruption', drainFirst: false },
  'healthcheck-restart': { rank: 2, effect: "restart of the health checker: this host withdraws its anycast announcement until `rise` probes pass; the site's other dns hosts keep announcing", drainFirst: false },
  'knot-restart': { rank: 2, effect: "knot restarts (a server section change): this host's DNS stops for a moment and its checker withdraws it", drainFirst: true, assumes: 'knot' },
  'unit-restart': { rank: 2, effect: 'systemctl daemon-reload, then a restart of the unit', drainFirst: true },
  'thumbnailer-restart': {
    rank: 2,
    effect: 'restart of anycdn-thumbnailer: derived-image misses at this cache get a 502 or 503 (never cached) while it starts; hits and originals are untouched',
    drainFirst: false,
  },
  'daemon-add': { rank: 2, effect: 'install the package, enable and start the unit (a new cache starts cold)', drainFirst: true },
  'daemon-remove': { rank: 2, effect: 'stop and disable the unit (a removed cache takes its content with it)', drainFirst: true },
  'host-add': { rank: 2, effect: 'a new host: install its bundle and start its units', drainFirst: false },
  'cloud-remove': { rank: 2, effect: 'cloud resources deleted', drainFirst: false },
  'bird-session-reset': { rank: 3, effect: 'birdc configure restarts the BGP sessions named; their routes are withdrawn until they re-establish', drainFirst: true, assumes: 'bird' },
  'keepalived-vip-move': { rank: 3, effect: 'the VIP may move to the peer (a VRRP failover, about three advert intervals): the VRRP instance is rebuilt, or the host is drained or undrained in the model (the runtime drain\'s order: new connections wait, the responses under way finish, then the VIP moves)', drainFirst: true, assumes: 'keepalived' },
  'haproxy-ring-move': {
    rank: 3,
    effect: "hitless haproxy reload that moves caches on the consistent-hash ring: the share of the images named changes cache and is fetched from the origin again; a drain does not help, so apply it when the origin can take the misses",
    drainFirst: false,
    assumes: 'haproxy',
  },
  'nginx-restart-cache-loss': { rank: 3, effect: 'proxy_cache_path changed its path, levels or zone: restart, and the cache starts empty', drainFirst: true, assumes: 'nginx' },
  'squid-restart-rebuild': { rank: 3, effect: 'cache_dir changed: squid -z, restart, and the cache is rebuilt (a new type or path starts empty)', drainFirst: true, assumes: 'squid' },
  'host-remove': { rank: 3, effect: 'a host leaves: stop its units and retire it', drainFirst: true },
  'cloud-interruption': { rank: 3, effect: 'EC2 stop and start (UserData or instance type): the host is down while it reboots', drainFirst: true },
  'cloud-broadening': { rank: 4, effect: 'security group or IAM permissions broadened: review before applying', drainFirst: false },
  'cloud-replacement': { rank: 4, effect: 'a cloud resource replaced by a new one, as each reason says (an EC2 instance: a new instance with an empty disk; an S3 bucket: a new bucket that starts empty)', drainFirst: true },
} as const satisfies Record<string, ImpactInfo>;

export type ImpactClass = keyof typeof IMPACTS;
export const IMPACT_CLASSES = Object.keys(IMPACTS) as ImpactClass[];

/** The most disruptive of `classes` (file-only for none). */
export function worst(classes: Iterable<ImpactClass>): ImpactClass {
  let w: ImpactClass = 'file-only';
  for (const c of classes) if (IMPACTS[c].rank > IMPACTS[w].rank) w = c;
  return w;
}

/** The version a class assumes, as printed next to it ("bird2 2.0.12"), if any. */
export function assumedVersion(c: ImpactClass): string | undefined {
  const info: ImpactInfo = IMPACTS[c];
  return info.assumes ? ASSUMED_VERSIONS[info.assumes] : undefined;
}
