// Knot DNS on dns hosts: authoritative only (Knot never recurses), response-rate limiting on, no
// transfers (no acl allows them, so AXFR/IXFR are refused), NSID naming the site and host. With
// acme, a second zone, _acme-challenge.<imageHost>, takes the issuer's signed updates of one TXT
// record and nothing else (docs/certificates.md). The zone answers
// the image host with this site's own published VIPs, or, while the site is drained, with its
// fallback site's (drain.fallbackSite).
import type { Host, Site, Topology } from '../model/schema.ts';
import { fallbackSite, hasRole, isDrained, nameserverGroup, publishedVip, publishedVip6 } from '../model/facts.ts';
import { unitEndpoints } from './endpoints.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS, zoneFile } from './paths.ts';
import { acmeIssuer, challengeZone } from './acme-facts.ts';
import { ACME_TSIG } from './secrets.ts';
import { emitKnot, listen, quote, type KnotItems, type KnotSection } from './syntax/knot.ts';
import type { Word } from './syntax/word.ts';
import { emitZone, type ZoneRecord } from './syntax/zone.ts';
import { zoneSerial } from './serial.ts';
import type { RenderedFile, Renderer } from './types.ts';

export const renderKnot: Renderer = (t, site, host, ctx) => {
  if (!hasRole(host, 'dns')) return [];
  const path = zoneFile(t.cdn.dns.zone);
  const text = (serial: number) => fileText([...headerLines(t, site.id, ';'), ...emitZone(t.cdn.dns.zone, zoneRecords(t, site, serial))]);
  const serial = zoneSerial(text, t.cdn.dns.soa.serial, ctx?.zoneBaseline?.(site.id, host.name, path));
  return [
    ...challengeZoneFiles(t, site, host, ctx),
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
    ...acmeSections(t),
    { name: 'zone', list: [[['domain', quote(zone)]], ...(t.cdn.acme ? [[['domain', quote(challengeZone(t))], ['acl', ACME_ACL]] as KnotItems] : [])] },
  ];
}

/** The acl that lets the issuer update the challenge zone. */
const ACME_ACL = 'acme-update';

/**
 * With acme: the TSIG key (fetched at boot into a file Knot includes; never rendered), and an acl
 * that admits one kind of update only: from the issuer's address, signed with that key, a TXT
 * record at the challenge zone's apex. Anything else is refused, as are transfers (no acl says so).
 */
function acmeSections(t: Topology): KnotSection[] {
  const issuer = acmeIssuer(t);
  if (!t.cdn.acme || !issuer) return [];
  return [
    { name: 'include', value: quote(PATHS.knotAcmeKey) },
    {
      name: 'acl',
      list: [
        [
          ['id', ACME_ACL],
          ['address', [issuer.host.address]],
          ['key', ACME_TSIG.name],
          ['action', 'update'],
          ['update-type', ['TXT']],
          ['update-owner', 'name'],
          ['update-owner-match', 'equal'],
          ['update-owner-name', [quote(`${challengeZone(t)}.`)]],
        ],
      ],
    },
  ];
}

/**
 * The challenge zone: SOA and NS only, as rendered; the issuer's signed updates add and remove the
 * TXT record at its apex in Knot's memory (journal-content none, zonefile-sync -1: never written
 * back), so the rendered files stay exactly what render wrote.
 */
function challengeZoneFiles(t: Topology, site: Site, host: Host, ctx: Parameters<Renderer>[3]): RenderedFile[] {
  if (!t.cdn.acme) return [];
  const origin = challengeZone(t);
  const path = zoneFile(origin);
  const text = (serial: number) => fileText([...headerLines(t, site.id, ';'), ...emitZone(origin, apexRecords(t, origin, serial))]);
  const serial = zoneSerial(text, t.cdn.dns.soa.serial, ctx?.zoneBaseline?.(site.id, host.name, path));
  return [{ site: site.id, host: host.name, path, content: text(serial), mode: 0o644, check: 'zone', zone: origin, soaSerial: serial }];
}

/** A zone's SOA and NS records, at its apex. */
function apexRecords(t: Topology, apex: string, serial: number): ZoneRecord[] {
  const { dns } = t.cdn;
  const s = dns.soa;
  return [
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
}

export function zoneRecords(t: Topology, site: Site, serial: number = t.cdn.dns.soa.serial): ZoneRecord[] {
  const { dns, imageHost } = t.cdn;
  const apex = dns.zone;
  const records: ZoneRecord[] = apexRecords(t, apex, serial);
  // Glue for in-zone name servers: each is reached at the service addresses of its anycast prefix.
  for (const ns of [...dns.nameservers].sort()) {
    if (!ns.endsWith(`.${apex}`)) continue;
    const group = nameserverGroup(t, ns);
    if (!group) throw new Error(`internal: name server ${ns} has no anycast prefix (the model rule should have caught it)`);
    for (const f of group.families) records.push({ name: ns, ttlSec: dns.nsTtlSec, type: f.family === 4 ? 'A' : 'AAAA', rdata: f.address });
  }
  // With acme: the challenge zone is delegated to the same name servers (which serve it too).
  if (t.cdn.acme) records.push(...dns.nameservers.map((ns): ZoneRecord => ({ name: challengeZone(t), ttlSec: dns.nsTtlSec, type: 'NS', rdata: ns })));
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
