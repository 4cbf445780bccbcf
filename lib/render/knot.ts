// Knot DNS on dns hosts: authoritative only (Knot never recurses), response-rate limiting on, no
// transfers (no acl, so AXFR/IXFR are refused), NSID naming the site and host. The zone answers
// the image host with this site's own published VIPs, or, while the site is drained, with its
// fallback site's (drain.fallbackSite).
import type { Host, Site, Topology } from '../model/schema.ts';
import { fallbackSite, hasRole, isDrained, nameserverGroup, publishedVip, publishedVip6 } from '../model/facts.ts';
import { unitEndpoints } from './endpoints.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS, zoneFile } from './paths.ts';
import { emitKnot, listen, quote, type KnotSection } from './syntax/knot.ts';
import type { Word } from './syntax/word.ts';
import { emitZone, type ZoneRecord } from './syntax/zone.ts';
import { zoneSerial } from './serial.ts';
import type { Renderer } from './types.ts';

export const renderKnot: Renderer = (t, site, host, ctx) => {
  if (!hasRole(host, 'dns')) return [];
  const path = zoneFile(t.cdn.dns.zone);
  const text = (serial: number) => fileText([...headerLines(t, site.id, ';'), ...emitZone(t.cdn.dns.zone, zoneRecords(t, site, serial))]);
  const serial = zoneSerial(text, t.cdn.dns.soa.serial, ctx?.zoneBaseline?.(site.id, host.name, path));
  return [
    {
      site: site.id,
      host: host.name,
      path: PATHS.knotConf,
      content: fileText([...headerLines(t, site.id, '#'), '', ...emitKnot(knotConf(t, site, host))]),
      mode: 0o644,
      check: 'knot',
    },
    {
      site: site.id,
      host: host.name,
      path,
      content: text(serial),
      mode: 0o644,
      check: 'zone',
      zone: t.cdn.dns.zone,
      soaSerial: serial,
    },
  ];
};

/** Knot's endpoints (the anycast addresses, the host's own, loopback), each once for UDP and TCP. */
function dnsListen(t: Topology, site: Site, host: Host): Word[] {
  const seen = new Set<string>();
  return unitEndpoints(t, site, host, 'knot').flatMap((e) => {
    const key = `${e.address}@${e.port}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [listen(e.address!, e.port!)];
  });
}

function knotConf(t: Topology, site: Site, host: Host): KnotSection[] {
  const { rrl, zone } = t.cdn.dns;
  return [
    {
      name: 'server',
      items: [
        ['identity', quote('')],
        ['version', quote('')],
        ['nsid', quote(`${site.id}/${host.name}`)],
        ['rundir', quote(PATHS.knotRundir)],
        ['listen', dnsListen(t, site, host)],
      ],
    },
    { name: 'log', list: [[['target', 'stderr'], ['any', 'info']]] },
    { name: 'database', items: [['storage', quote(PATHS.knotStorage)]] },
    { name: 'mod-rrl', list: [[['id', 'default'], ['rate-limit', rrl.rateLimit], ['slip', rrl.slip]]] },
    {
      name: 'template',
      list: [
        [
          ['id', 'default'],
          ['storage', quote(PATHS.knotZonesDir)],
          ['file', quote('%s.zone')],
          ['global-module', 'mod-rrl/default'],
          ['semantic-checks', 'on'],
          ['zonefile-sync', -1],
          ['zonefile-load', 'whole'],
          ['journal-content', 'none'],
        ],
      ],
    },
    { name: 'zone', list: [[['domain', quote(zone)]]] },
  ];
}

export function zoneRecords(t: Topology, site: Site, serial: number = t.cdn.dns.soa.serial): ZoneRecord[] {
  const { dns, imageHost } = t.cdn;
  const apex = dns.zone;
  const s = dns.soa;
  const records: ZoneRecord[] = [
    {
      name: apex,
      ttlSec: dns.nsTtlSec,
      type: 'SOA',
      rdata: {
        mname: dns.nameservers[0]!,
        rname: dns.hostmaster,
        serial,
        refreshSec: s.refreshSec,
        retrySec: s.retrySec,
        expireSec: s.expireSec,
        negativeTtlSec: s.negativeTtlSec,
      },
    },
    ...dns.nameservers.map((ns): ZoneRecord => ({ name: apex, ttlSec: dns.nsTtlSec, type: 'NS', rdata: ns })),
  ];
  // Glue for in-zone name servers: each is reached at the service addresses of its anycast prefix.
  for (const ns of [...dns.nameservers].sort()) {
    if (!ns.endsWith(`.${apex}`)) continue;
    const group = nameserverGroup(t, ns);
    if (!group) throw new Error(`internal: name server ${ns} has no anycast prefix (the model rule should have caught it)`);
    for (const f of group.families) records.push({ name: ns, ttlSec: dns.nsTtlSec, type: f.family === 4 ? 'A' : 'AAAA', rdata: f.address });
  }
  const answer = imageHostSite(t, site);
  records.push({ name: imageHost, ttlSec: dns.ttlSec, type: 'A', rdata: publishedVip(answer) });
  const vip6 = publishedVip6(answer);
  if (vip6) records.push({ name: imageHost, ttlSec: dns.ttlSec, type: 'AAAA', rdata: vip6 });
  return records;
}

/** The site whose VIPs answer for the image host: this one; while drained, its fallback (the model rule ensures one). */
export function imageHostSite(t: Topology, site: Site): Site {
  return (isDrained(site) ? fallbackSite(t, site) : undefined) ?? site;
}

/** This site's IPv4 VIP; while the site is drained, its fallback site's. */
export function imageHostAnswer(t: Topology, site: Site): string {
  return publishedVip(imageHostSite(t, site));
}
