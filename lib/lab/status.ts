// `anycdn lab status` and the readiness wait of `up`: what each client sees right now.
import type { Site, Topology } from '../model/schema.ts';
import { anycastFamilies, bfdTimers, hasRole, isDrained, lbHosts, runsBird, vrrpPriority } from '../model/facts.ts';
import { canonical } from '../model/net.ts';
import { endpointUrl, PATHS, renderPlans, sitePlans, withPurpose, type Endpoint, type HostPlan } from '../render/index.ts';
import { birdCommand, parseBfdSessions } from './bird-ctl.ts';
import { checkerState, holdsAddress } from './control.ts';
import { join } from 'node:path';
import { tail } from './daemons.ts';
import { waitFor } from './exec.ts';
import { nearestAnswers } from './nearest.ts';
import { labPaths, readState } from './state.ts';
import { dig, http, routeVia } from './probe.ts';
import type { LabPlan } from './plan.ts';

export interface SiteStatus {
  site: string;
  /** What the client near this site gets for the image host from the anycast address. */
  dnsAnswer?: string;
  nsid?: string;
  /** Next hops of the anycast route at this site's router. */
  anycastVia: string[];
  /** HTTP status of the site's VIP health path, fetched from its client. */
  vipHealth: number;
  /** The lb host whose namespace holds the VIP now; undefined when none does. */
  vipHolder?: string;
  /** Each DNS host's health checker: announced, depreferred, withdrawn, ...; "not running" without one. */
  checkers: { host: string; state: string }[];
  /** Each BFD session the model configures, at each host that runs bird: bird's state, or why there is none. */
  bfd: BfdRow[];
}

export interface BfdRow {
  host: string;
  peer: string;
  address: string;
  /** Up, Down, Init, AdminDown; "no session" when bird has none for the peer; "unknown" when bird did not answer. */
  state: string;
}

/**
 * The BFD sessions the model asks for at a site, as each bird sees them, read from its control
 * socket inside the host's view (/proc/<holder>/root), so no process starts. Without this, BFD
 * that never comes up goes unnoticed: BGP stays up and only the hold timer is left for failover.
 */
export async function bfdRows(site: Site, holders: Record<string, number>): Promise<BfdRow[]> {
  const peers = site.bgp.peers.filter((p) => bfdTimers(p));
  if (peers.length === 0) return [];
  const hosts = site.hosts.filter((h) => runsBird(site, h));
  const perHost = await Promise.all(
    hosts.map(async (h) => {
      const holder = holders[h.name];
      const sessions = holder
        ? await birdCommand(`/proc/${holder}/root${PATHS.birdCtl}`, 'show bfd sessions', 1500).then(parseBfdSessions, () => undefined)
        : undefined;
      return peers.map((p) => {
        const s = sessions?.find((x) => canonical(x.address) === canonical(p.address));
        return { host: h.name, peer: p.name, address: canonical(p.address), state: sessions === undefined ? 'unknown' : (s?.state ?? 'no session') };
      });
    }),
  );
  return perHost.flat();
}

/** The first IPv4 endpoint of a purpose among plans. */
function firstEndpoint(plans: HostPlan[], purpose: Endpoint['purpose']): Endpoint | undefined {
  return plans.flatMap((p) => withPurpose(p.endpoints, purpose)).find((e) => e.family === 4);
}

/** What each site's client sees: Knot on the first anycast address, and the VIP's health path (the hosts' endpoints). */
export async function labStatus(t: Topology, plan: LabPlan, hostPlans: HostPlan[] = renderPlans(t)): Promise<SiteStatus[]> {
  const knot = firstEndpoint(hostPlans, 'dns-anycast');
  const first = anycastFamilies(t).find((f) => f.address === knot?.address);
  if (!knot?.address || !first) throw new Error('internal: no dns host answers on the anycast address');
  const holders = readState()?.holders ?? {};
  return Promise.all(
    plan.routers.map(async (r) => {
      const site = t.sites.find((s) => s.id === r.site)!;
      const client = plan.clients.find((c) => c.site === r.site)!;
      const vip = firstEndpoint(sitePlans(hostPlans, site.id), 'image-vip-http');
      if (!vip) throw new Error(`internal: site ${site.id} has no VIP endpoint`);
      const [answer, via, health, bfd] = await Promise.all([
        dig(client.ns, knot.address!, t.cdn.imageHost),
        routeVia(r.ns, first.prefix),
        http(client.ns, endpointUrl(vip, { defaultPort: 'omit' }), { host: t.cdn.imageHost, timeoutSec: 1 }),
        bfdRows(site, holders),
      ]);
      const vipHolder = site.hosts.find((h) => hasRole(h, 'lb') && holdsAddress(h.name, site.vip.address, holders))?.name;
      const checkers = site.hosts.filter((h) => hasRole(h, 'dns')).map((h) => ({ host: h.name, state: checkerState(h.name) ?? 'not running' }));
      return {
        site: r.site,
        ...(answer.address ? { dnsAnswer: answer.address } : {}),
        ...(answer.nsid ? { nsid: answer.nsid } : {}),
        anycastVia: via,
        vipHealth: health.status,
        ...(vipHolder ? { vipHolder } : {}),
        checkers,
        bfd,
      };
    }),
  );
}

/**
 * The lb host that holds the VIP once VRRP has settled: with preemption, the one active lb host
 * of the highest priority; undefined without preemption or on a tie (then any may hold it).
 */
export function settledHolder(site: Site): string | undefined {
  if (site.vip.preempt === false) return undefined;
  const lbs = lbHosts(site).filter((h) => !isDrained(h));
  const top = Math.max(...lbs.map((h) => vrrpPriority(site, h)));
  const winners = lbs.filter((h) => vrrpPriority(site, h) === top);
  return winners.length === 1 ? winners[0]!.name : undefined;
}

/**
 * What keeps a site from being ready (empty when it is): VIP health, VRRP settled (a preemption
 * still to come would move the VIP, and the checkers' image path with it), every checker of an
 * active site announcing, and the nearby DNS answer: one of `answers`, the VIPs of the sites
 * nearest its router (nearest.ts), which is the site's own unless prepends make another nearer.
 */
function notReady(t: Topology, x: SiteStatus, answers: string[] | undefined): string[] {
  const site = t.sites.find((y) => y.id === x.site)!;
  const why: string[] = [];
  if (x.vipHealth !== 200) why.push(`VIP ${site.vip.address} health path answered ${x.vipHealth || 'nothing'} (want 200)`);
  const holder = settledHolder(site);
  if (holder && x.vipHolder !== holder) why.push(`VIP ${site.vip.address} is on ${x.vipHolder ?? 'no host'} (want ${holder}, which preempts)`);
  if (!isDrained(site)) {
    for (const c of x.checkers) {
      const host = site.hosts.find((h) => h.name === c.host)!;
      if (!isDrained(host) && c.state !== 'announced') why.push(`${c.host}'s health checker is ${c.state} (want announced)`);
    }
  }
  if (answers && answers.length > 0 && !answers.includes(x.dnsAnswer ?? '')) {
    const want = answers.length === 1 ? answers[0] : `one of ${answers.join(', ')}`;
    why.push(`the nearby anycast DNS answered ${x.dnsAnswer ?? 'nothing'} (want ${want}; anycast route via ${x.anycastVia.join(', ') || 'none'})`);
  }
  return why;
}

export type Readiness = { ready: true; rows: SiteStatus[] } | { ready: false; reasons: string[] };

/**
 * Waits (bounded) until every site serves its VIP and every announcing site answers DNS nearby.
 * When it gives up, it says which site lacks what, with the last lines of the logs that tell why
 * (the site's health checkers, and haproxy where the VIP does not serve).
 */
export async function waitReady(t: Topology, plan: LabPlan, timeoutMs: number): Promise<Readiness> {
  let last: SiteStatus[] = [];
  const answers = nearestAnswers(t, plan, anycastFamilies(t)[0]!);
  const hostPlans = renderPlans(t);
  const rows = await waitFor(async () => {
    last = await labStatus(t, plan, hostPlans);
    return last.every((x) => notReady(t, x, answers.get(x.site)).length === 0) ? last : undefined;
  }, timeoutMs, 250);
  if (rows) return { ready: true, rows };
  const reasons = last.flatMap((x) => {
    const why = notReady(t, x, answers.get(x.site));
    if (why.length === 0) return [];
    const site = t.sites.find((y) => y.id === x.site)!;
    const vipDown = x.vipHealth !== 200;
    const logs = site.hosts
      .filter((h) => hasRole(h, 'dns') || (vipDown && hasRole(h, 'lb')))
      .flatMap((h) => (hasRole(h, 'dns') ? ['anycdn-healthcheck'] : []).concat(vipDown && hasRole(h, 'lb') ? ['haproxy', 'keepalived'] : []).map((u) => `  ${h.name} ${u}: ${tail(join(labPaths.logs(h.name), `${u}.log`), 3)}`));
    return [`site ${x.site}: not ready after ${timeoutMs / 1000} s: ${why.join('; ')}`, ...logs];
  });
  return { ready: false, reasons };
}

export function formatStatus(rows: SiteStatus[]): string[] {
  return rows.map(
    (r) => `${r.site}: vip ${r.vipHealth === 200 ? 'serving' : `down (${r.vipHealth})`}${r.vipHolder ? ` on ${r.vipHolder}` : ''}, checkers ${r.checkers.map((c) => `${c.host} ${c.state}`).join(', ') || 'none'}, nearby anycast DNS -> ${r.dnsAnswer ?? 'no answer'}${r.nsid ? ` (nsid ${r.nsid})` : ''}, anycast route via ${r.anycastVia.join(', ') || 'none'}${r.bfd.length ? `, bfd ${r.bfd.map((b) => `${b.host}/${b.peer} ${b.state}`).join(', ')}` : ''}`,
  );
}
