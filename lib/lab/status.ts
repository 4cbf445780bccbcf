// `anycdn lab status` and the readiness wait of `up`: what each client sees right now.
import { prefixAddress } from '../model/net.ts';
import type { Topology } from '../model/schema.ts';
import { publishedVip } from '../render/knot.ts';
import { waitFor } from './exec.ts';
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
}

export async function labStatus(t: Topology, plan: LabPlan): Promise<SiteStatus[]> {
  const anycast = prefixAddress(t.cdn.anycast.ipv4);
  return Promise.all(
    plan.routers.map(async (r) => {
      const site = t.sites.find((s) => s.id === r.site)!;
      const client = plan.clients.find((c) => c.site === r.site)!;
      const [answer, via, health] = await Promise.all([
        dig(client.ns, anycast, t.cdn.imageHost),
        routeVia(r.ns, t.cdn.anycast.ipv4),
        http(client.ns, `http://${site.vip.address}${t.cdn.healthcheck.path}`, { host: t.cdn.imageHost, timeoutSec: 1 }),
      ]);
      return { site: r.site, ...(answer.address ? { dnsAnswer: answer.address } : {}), ...(answer.nsid ? { nsid: answer.nsid } : {}), anycastVia: via, vipHealth: health.status };
    }),
  );
}

/** Waits (bounded) until every site serves its VIP and every announcing site answers DNS nearby. */
export async function waitReady(t: Topology, plan: LabPlan, timeoutMs: number): Promise<SiteStatus[] | undefined> {
  return waitFor(async () => {
    const s = await labStatus(t, plan);
    const ready = s.every((x) => {
      const site = t.sites.find((y) => y.id === x.site)!;
      const announces = site.bgp.peers.length > 0;
      return x.vipHealth === 200 && (!announces || x.dnsAnswer === publishedVip(site));
    });
    return ready ? s : undefined;
  }, timeoutMs, 250);
}

export function formatStatus(rows: SiteStatus[]): string[] {
  return rows.map(
    (r) => `${r.site}: vip ${r.vipHealth === 200 ? 'serving' : `down (${r.vipHealth})`}, nearby anycast DNS -> ${r.dnsAnswer ?? 'no answer'}${r.nsid ? ` (nsid ${r.nsid})` : ''}, anycast route via ${r.anycastVia.join(', ') || 'none'}`,
  );
}
