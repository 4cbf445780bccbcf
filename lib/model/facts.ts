// Facts of a topology that more than one layer needs: the address a site publishes, the anycast
// families, who announces, the role lists, where caches fetch misses. Renderers, checkers, the
// cloud shape and the lab all read them here, so none recomputes (and drifts from) another.
import { byCodePoint } from './order.ts';
import type { Cdn, Host, OriginEntry, Peer, Site, Topology } from './schema.ts';

export type Role = Host['roles'][number];

/**
 * Every port anycdn's daemons listen on or call, written once: the endpoints of each host
 * (lib/render/endpoints.ts), the renderers' listen lines, the model rules and the cloud rules all
 * read them here.
 */
export const PORTS = {
  /** HTTP and HTTPS: the image VIP, the caches, the shield, S3 and HTTP origins, apt mirrors. */
  http: 80,
  https: 443,
  dns: 53,
  /** bird's BGP sessions (bird listens on every address unless told otherwise). */
  bgp: 179,
  /** bird's BFD control packets: single hop (RFC 5881) and multihop (RFC 5883). */
  bfd: 3784,
  bfdMultihop: 4784,
  /** haproxy's stats page, liveness URI and local Prometheus exporter, on haproxy.statsAddress. */
  haproxyStats: 8404,
  /** anycdn-thumbnailer, which makes derived images for its nginx, on loopback (lib/render/thumbnailer.ts). */
  thumbnailer: 8089,
  /** The nginx image server's loopback listener, where the thumbnailer reads originals through the cache. */
  nginxOriginals: 8090,
  /** Squid's cache manager on loopback (with `monitoring`), for prometheus-squid-exporter: Debian's default. */
  squidManager: 3128,
} as const;

/** The port every cache listens on, on its host address: plain HTTP, from the lb hosts only. */
export const CACHE_PORT = PORTS.http;

/** An exporter of the Debian packages, by the Prometheus job that scrapes it. */
export type ExporterKind = 'node' | 'bird' | 'haproxy' | 'nginx' | 'mtail' | 'squid';

/**
 * Where each exporter listens on a host's own address (the Debian packages' default ports).
 * haproxy serves /metrics itself (its prometheus-exporter service), on the port Debian's retired
 * prometheus-haproxy-exporter would take; the health checker serves its own on its status port.
 */
export const EXPORTER_PORTS: Record<ExporterKind, number> = {
  node: 9100,
  haproxy: 9101,
  nginx: 9113,
  // mtail's own default port: the nginx caches' hit and origin-error counters, from the access log.
  mtail: 3903,
  squid: 9301,
  bird: 9324,
};

/** Whether a host has a role. */
export function hasRole(host: Host, role: Role): boolean {
  return host.roles.includes(role);
}

/** The address a site publishes for the image host: its Elastic IP on aws, else the VIP. */
export function publishedVip(site: Site): string {
  return site.vip.elasticIp?.address ?? site.vip.address;
}

/** The IPv6 address a site publishes for the image host (its AAAA record), if it has one. */
export function publishedVip6(site: Site): string | undefined {
  return site.vip.address6;
}

/** One family of one anycast prefix: the covering prefix announced and the service address inside. */
export interface AnycastFamily {
  /** The anycast prefix's model name (anycast.prefixes[].name). */
  group: string;
  family: 4 | 6;
  /** The covering prefix, as announced: 192.0.2.0/24. */
  prefix: string;
  /** The service address on lo: 192.0.2.53. */
  address: string;
}

/** One named anycast prefix with its families and the name servers reached at it. */
export interface AnycastGroup {
  name: string;
  families: AnycastFamily[];
  nameservers: string[];
}

/** The anycast prefixes in model order, IPv4 first within each. */
export function anycastGroups(t: Topology): AnycastGroup[] {
  return t.cdn.anycast.prefixes.map((p) => ({
    name: p.name,
    families: [
      { group: p.name, family: 4 as const, prefix: p.ipv4.prefix, address: p.ipv4.address },
      ...(p.ipv6 ? [{ group: p.name, family: 6 as const, prefix: p.ipv6.prefix, address: p.ipv6.address }] : []),
    ],
    nameservers: p.nameservers,
  }));
}

/** Every family of every anycast prefix, in model order. */
export function anycastFamilies(t: Topology): AnycastFamily[] {
  return anycastGroups(t).flatMap((g) => g.families);
}

/** The anycast prefixes a site announces: its bgp.announce, or all of them. */
export function announcedGroups(t: Topology, site: Site): AnycastGroup[] {
  const names = site.bgp.announce;
  return anycastGroups(t).filter((g) => names === undefined || names.includes(g.name));
}

/**
 * The anycast prefix whose addresses a name server's glue points at: the one that lists it, or the
 * only prefix when there is one (the model rule makes every in-zone name server resolve).
 */
export function nameserverGroup(t: Topology, nameserver: string): AnycastGroup | undefined {
  const groups = anycastGroups(t);
  return groups.find((g) => g.nameservers.includes(nameserver)) ?? (groups.length === 1 ? groups[0] : undefined);
}

/** Whether a site announces over BGP itself (metal sites with peers; aws sites use Global Accelerator). */
export function announcesBgp(site: Site): boolean {
  return site.bgp.peers.length > 0;
}

/** Whether a host runs bird: a dns host at a site that announces over BGP. */
export function runsBird(site: Site, host: Host): boolean {
  return hasRole(host, 'dns') && announcesBgp(site);
}

/** Whether a sick image path keeps the site announced, depreferred (healthcheck.onImagePathDown). */
export function deprefers(t: Topology): boolean {
  return t.cdn.healthcheck.onImagePathDown === 'deprefer';
}

/** The hosts of a site with a role, sorted by name. */
export function hostsWithRole(site: Site, role: Role): Host[] {
  return site.hosts.filter((h) => hasRole(h, role)).sort((a, b) => byCodePoint(a.name, b.name));
}

export const lbHosts = (site: Site): Host[] => hostsWithRole(site, 'lb');
export const cacheHosts = (site: Site): Host[] => hostsWithRole(site, 'cache');
export const dnsHosts = (site: Site): Host[] => hostsWithRole(site, 'dns');

/** Default keepalived priorities of the lb pair, by host name. */
const DEFAULT_PRIORITIES = [150, 100] as const;

/** host.vrrpPriority, else 150 for the first lb host by name and 100 for the second. */
export function vrrpPriority(site: Site, host: Host): number {
  if (host.vrrpPriority !== undefined) return host.vrrpPriority;
  const i = lbHosts(site).findIndex((h) => h.name === host.name);
  return i === 0 ? DEFAULT_PRIORITIES[0] : DEFAULT_PRIORITIES[1];
}

export interface OriginTarget {
  /** The host the cache connects to (and verifies and sends as SNI over TLS). */
  host: string;
  port: number;
  tls: boolean;
  /** The Host header the origin expects: the S3 virtual-hosted bucket name, or the URL's authority. */
  hostHeader: string;
}

/** The model's origins in priority order: the single form is a list of one. */
export function originEntries(cdn: Cdn): OriginEntry[] {
  return Array.isArray(cdn.origin) ? cdn.origin : [cdn.origin];
}

/** The S3 origins in priority order: the first is the bucket anycdn-origin owns, a second its replica. */
export function s3Origins(cdn: Cdn): { bucket: string; region: string }[] {
  return originEntries(cdn).flatMap((o) => ('s3' in o ? [o.s3] : []));
}

/** Where one origin entry is reached. */
export function targetOf(o: OriginEntry): OriginTarget {
  if ('s3' in o) {
    const host = `${o.s3.bucket}.s3.${o.s3.region}.amazonaws.com`;
    return { host, port: PORTS.https, tls: true, hostHeader: host };
  }
  const m = /^(https?):\/\/([a-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(o.http.url);
  if (!m) throw new Error(`internal: origin.http.url ${JSON.stringify(o.http.url)} passed the schema but does not parse`);
  const tls = m[1] === 'https';
  const defaultPort = tls ? PORTS.https : PORTS.http;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  return { host: m[2]!, port, tls, hostHeader: port === defaultPort ? m[2]! : `${m[2]!}:${port}` };
}

/** Where misses finally go, in the order caches try them (each on the previous one's failure). */
export function originTargets(t: Topology): OriginTarget[] {
  return originEntries(t.cdn).map(targetOf);
}

/** The primary origin: the first of originTargets. */
export function originTarget(t: Topology): OriginTarget {
  return originTargets(t)[0]!;
}

/**
 * The daemon identifier of the origin at a priority index (nginx upstream and named location,
 * Squid cache_peer name): origin, origin2, origin3, ... so a one-origin model keeps its names.
 */
export function originName(index: number): string {
  return index === 0 ? 'origin' : `origin${index + 1}`;
}

/** Misses go to the shield site's image VIP first, unless this site is the shield (or there is none). */
export interface ShieldTarget {
  site: string;
  address: string;
  port: number;
}

export function shieldTarget(t: Topology, site: Site): ShieldTarget | undefined {
  if (t.cdn.shield === undefined || t.cdn.shield === site.id) return undefined;
  const shield = t.sites.find((s) => s.id === t.cdn.shield);
  if (!shield) throw new Error(`internal: shield ${t.cdn.shield} is not a site (the model rule should have caught it)`);
  return { site: shield.id, address: publishedVip(shield), port: PORTS.http };
}

export interface BfdTimers {
  intervalMs: number;
  multiplier: number;
  /** RFC 5883 multihop BFD on a directly connected session (what FRR runs for a GTSM peer). */
  multihop: boolean;
}

/** What `bfd: true` means: 100 ms x 3, about 0.3 s to detect a dead peer, single-hop. */
export const DEFAULT_BFD: BfdTimers = { intervalMs: 100, multiplier: 3, multihop: false };

/** A session's BFD timers, or undefined when it runs no BFD. */
export function bfdTimers(peer: Peer): BfdTimers | undefined {
  if (peer.bfd === false) return undefined;
  return peer.bfd === true ? DEFAULT_BFD : peer.bfd;
}

/**
 * Whether a session's BFD runs multihop (RFC 5883, UDP 4784): a multihop BGP session, or a
 * directly connected one whose peer runs multihop BFD (bfd.multihop).
 */
export function bfdMultihop(peer: Peer): boolean {
  return peer.multihop !== undefined || bfdTimers(peer)?.multihop === true;
}

/**
 * The multihop TTL of a BGP session as bird takes it: the model's, or 1 for a directly connected
 * session whose BFD runs multihop (bird picks the BFD session type from the BGP session's).
 */
export function bgpMultihop(peer: Peer): number | undefined {
  return peer.multihop ?? (bfdTimers(peer)?.multihop ? 1 : undefined);
}

/** The AS every site originates the anycast prefixes from (bgp.originAsn). */
export function originAsn(t: Topology): number {
  return t.cdn.bgp.originAsn;
}

/**
 * The origin the internet sees, which the ROAs and IRR objects name: the upstream that strips a
 * private originAsn and originates for the sites (bgp.upstreamOriginAsn), else originAsn itself.
 */
export function publicOriginAsn(t: Topology): number {
  return t.cdn.bgp.upstreamOriginAsn ?? t.cdn.bgp.originAsn;
}

/** Private-use ASNs (RFC 6996): upstreams strip them, IRR databases refuse them as origins. */
export function isPrivateAsn(asn: number): boolean {
  return (asn >= 64512 && asn <= 65534) || (asn >= 4200000000 && asn <= 4294967294);
}

/** Whether a site or a host is declared drained in the model. */
export const isDrained = (x: { state: 'active' | 'drained' }): boolean => x.state === 'drained';

/**
 * The site whose VIP a draining site's DNS answers with: drain.fallbackSite, or the only other
 * site when there are two. Undefined when the model does not say (more than two sites and no
 * fallbackSite): the site then cannot drain, and the model rule says how to fix it.
 */
export function fallbackSite(t: Topology, site: Site): Site | undefined {
  const name = site.drain.fallbackSite;
  if (name !== undefined) return t.sites.find((s) => s.id === name && s.id !== site.id);
  const others = t.sites.filter((s) => s.id !== site.id);
  return others.length === 1 ? others[0] : undefined;
}
