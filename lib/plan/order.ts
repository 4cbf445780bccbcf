// The order to apply a plan in, as steps that keep the service up: one site at a time (so never
// two sites drained at once), and inside a site one host per step: new hosts first (capacity
// before change), then the caches one at a time, then the lb pair backup first (lower VRRP
// priority: the VIP moves at most once), then other dns hosts, then removed hosts. The origin
// stacks come first (the replica's before the origin's), the shield site after the sites that
// fetch through it, the Prometheus server after every host it scrapes, the global stack last.
// aws sites apply through their stack, whose wait-condition chain restarts one host at a time.
import { byCodePoint } from '../model/order.ts';
import type { Topology } from '../model/schema.ts';
import { hasRole, vrrpPriority } from '../model/facts.ts';
import { PATHS, PROMETHEUS_HOST, unitPackages } from '../render/index.ts';
import { IMPACTS, worst, type ImpactClass } from './impact.ts';
import type { CloudChange, DaemonChange, HostChange, SiteChange, Step } from './types.ts';

const ORIGIN_STACK = 'anycdn-origin';
/** The replica bucket's stack: before the origin's, whose replication rule needs the bucket. */
const ORIGIN_REPLICA_STACK = 'anycdn-origin-replica';
const GLOBAL_STACK = 'anycdn-global';

/** The command that applies a daemon's change on the host, by its worst class. */
function daemonAction(d: DaemonChange): string | undefined {
  const u = d.unit;
  switch (d.impact) {
    case 'file-only':
      return undefined;
    case 'sysctl-apply':
      return 'sysctl --system';
    case 'bird-configure':
    case 'bird-session-reset':
      return `birdc -s ${PATHS.birdCtl} configure`;
    case 'knot-zone-reload':
      return 'knotc zone-reload';
    case 'knot-reload':
    case 'haproxy-reload':
    case 'haproxy-ring-move':
    case 'healthcheck-reload':
    case 'thumbnailer-reload':
    case 'prometheus-reload':
    case 'mtail-reload':
    case 'keepalived-reload':
    case 'keepalived-vip-move':
    case 'nginx-reload':
    case 'squid-reconfigure':
      return `systemctl reload ${u}`;
    case 'squid-restart-rebuild':
      return `systemctl stop squid && squid -z -N -f ${PATHS.squidConf} && systemctl start squid`;
    case 'daemon-add':
      // A new Squid cache_dir must be created before Squid starts.
      return [
        ...(unitPackages(u).length ? [`apt-get install -y ${unitPackages(u).join(' ')}`] : []),
        ...(u === 'squid' ? [`squid -z -N -f ${PATHS.squidConf}`] : []),
        `systemctl enable --now ${u}`,
      ].join(' && ');
    case 'daemon-remove':
      return `systemctl disable --now ${u}`;
    default:
      return `systemctl restart ${u}`;
  }
}

/** Units first (daemon-reload), then sysctls, then the daemons in the order they start. */
const UNIT_ORDER = ['sysctl', 'anycdn-secrets', 'knot', 'bird', 'anycdn-healthcheck', 'haproxy', 'keepalived', 'anycdn-thumbnailer', 'nginx', 'squid', 'prometheus'];
const unitRank = (u: string) => (UNIT_ORDER.includes(u) ? UNIT_ORDER.indexOf(u) : UNIT_ORDER.length);

/** An lb host drained or undrained in the model (lib/plan/classify.ts marks its keepalived impact). */
function modelDrain(h: HostChange): 'drain' | 'undrain' | undefined {
  return h.daemons.flatMap((d) => d.impacts).find((i) => i.drain)?.drain;
}

function hostActions(site: string, h: HostChange): string[] {
  if (h.status === 'added') return [`copy out/${site}/${h.host}/ to / on the new host (or pull its bundle), install its packages, systemctl daemon-reload, enable and start its units`];
  if (h.status === 'removed') return [`stop and disable every anycdn unit on ${h.host}, then retire it`];
  const ds = [...h.daemons].sort((a, b) => unitRank(a.unit) - unitRank(b.unit) || byCodePoint(a.unit, b.unit));
  const unitFiles = ds.some((d) => d.files.some((f) => f.path.startsWith(`${PATHS.unitsDir}/`)));
  // A model drain of an lb host moves the VIP as the runtime drain does (its steps for the lb
  // role: new connections wait, the responses under way finish, keepalived's drain flag), before
  // the files that keep it drained at every start; an undrain clears those flags after them. Its
  // dns role, if any, drains through the checker's reload below.
  const drain = modelDrain(h);
  return [
    ...(drain === 'drain' ? [`anycdn drain ${site}/${h.host} --role lb --apply`] : []),
    `copy out/${site}/${h.host}/ to / on ${h.host} (or pull its bundle)`,
    ...(unitFiles ? ['systemctl daemon-reload'] : []),
    ...ds.map(daemonAction).filter((a): a is string => a !== undefined),
    ...(drain === 'undrain' ? [`anycdn undrain ${site}/${h.host} --role lb --apply`] : []),
  ];
}

const classesOf = (h: HostChange): ImpactClass[] => [...h.impacts.map((i) => i.class), ...h.daemons.flatMap((d) => d.impacts.map((i) => i.class))];
const distinct = (cs: ImpactClass[]) => [...new Set(cs)].sort((a, b) => IMPACTS[b].rank - IMPACTS[a].rank || byCodePoint(a, b));

export function applySteps(t: Topology, sites: SiteChange[], cloud: CloudChange[]): Step[] {
  const steps: Omit<Step, 'n'>[] = [];
  const stack = (name: string) => cloud.find((c) => c.stack === name);
  const stackStep = (c: CloudChange, site: string | null, title: string) =>
    // Only a host's instance can be drained first; a replaced bucket or policy cannot.
    steps.push({ title, site, hosts: [], impact: c.impact, classes: distinct(c.impacts.map((i) => i.class)), drainFirst: c.impacts.some((i) => IMPACTS[i.class].drainFirst && i.resource.endsWith('AWS::EC2::Instance')), actions: [`npx cdk deploy ${c.stack}`] });

  const replica = stack(ORIGIN_REPLICA_STACK);
  if (replica) stackStep(replica, null, `deploy ${ORIGIN_REPLICA_STACK}`);
  const origin = stack(ORIGIN_STACK);
  if (origin) stackStep(origin, null, `deploy ${ORIGIN_STACK}`);

  const ids = [...new Set([...sites.map((s) => s.site), ...cloud.map((c) => c.stack.replace(/^anycdn-/, '')).filter((s) => s !== 'origin' && s !== 'origin-replica' && s !== 'global')])];
  const shield = t.cdn.shield;
  // The shield after the sites that fetch through it; Prometheus after every host it scrapes.
  const late = (id: string) => (id === PROMETHEUS_HOST.site ? 2 : id === shield ? 1 : 0);
  ids.sort((a, b) => late(a) - late(b) || byCodePoint(a, b));

  for (const id of ids) {
    const sc = sites.find((s) => s.site === id);
    const site = t.sites.find((s) => s.id === id);
    const st = stack(`anycdn-${id}`);
    const hosts = sc?.hosts ?? [];
    if (sc?.platform === 'aws' || (site?.platform === 'aws' && hosts.length === 0)) {
      // One deploy: CloudFormation applies the hosts one at a time, in host-name order, each after the previous one is healthy.
      const ordered = [...hosts].sort((a, b) => byCodePoint(a.host, b.host));
      const classes = distinct([...ordered.flatMap(classesOf), ...(st?.impacts.map((i) => i.class) ?? [])]);
      steps.push({
        title: `deploy anycdn-${id}: its hosts restart one at a time, each waiting for the previous one to be healthy`,
        site: id,
        hosts: ordered.map((h) => h.host),
        impact: worst(classes),
        classes,
        drainFirst: false,
        actions: [`npx cdk deploy anycdn-${id}`],
      });
      continue;
    }
    if (st) stackStep(st, id, `deploy anycdn-${id}: publish the host bundles and point each host's bundle parameter at its new one`);
    const host = (name: string) => site?.hosts.find((h) => h.name === name);
    const group = (h: HostChange): number => {
      if (h.status === 'added') return 0;
      if (h.status === 'removed') return 4;
      const m = host(h.host);
      return m && hasRole(m, 'cache') ? 1 : m && hasRole(m, 'lb') ? 2 : 3;
    };
    const prio = (h: HostChange) => {
      const m = host(h.host);
      return site && m && hasRole(m, 'lb') ? vrrpPriority(site, m) : 0;
    };
    const ordered = [...hosts].sort((a, b) => group(a) - group(b) || prio(a) - prio(b) || byCodePoint(a.host, b.host));
    for (const h of ordered) {
      const classes = distinct(classesOf(h));
      // A model drain's own VIP move is in its actions, and the host stays drained: no drain around it.
      const drainFirst = h.status === 'changed' && [...h.impacts, ...h.daemons.flatMap((d) => d.impacts)].some((i) => IMPACTS[i.class].drainFirst && !i.drain);
      steps.push({ title: `${id}/${h.host}`, site: id, hosts: [h.host], impact: worst(classes), classes, drainFirst, actions: hostActions(id, h) });
    }
  }
  const global = stack(GLOBAL_STACK);
  if (global) stackStep(global, null, `deploy ${GLOBAL_STACK}`);
  return steps.map((s, i) => ({ n: i + 1, ...s }));
}
