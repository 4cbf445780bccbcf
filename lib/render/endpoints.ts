// What each host serves, as data: every listener its units open, with the transport and the
// application protocol, the address (or a whole family), the port, a stable purpose key, the unit
// that opens it and who may reach it. Built per unit from the facts (lib/model/facts.ts: PORTS,
// EXPORTER_PORTS, the addresses), as catalog.ts builds the rest of what a unit needs.
//
// The renderers take their listen lines from here (haproxy's binds, Knot's listen, the caches'
// listen and http_port, the exporters' listen flags), and every adapter reads the HostPlan's
// `endpoints` instead of a port number: the security groups, the exporter firewall, the drain's
// nft table, the readiness probes, the Route 53 check, the scrape config. A health gate finds
// "the VIP's health path" (image-vip-http), "this cache's health endpoint" (cache-http), "Knot on
// the anycast address" (dns-anycast) or "the checker's status port" (healthcheck-status) by
// purpose, never by number.
import { CACHE_HEALTH } from './cache-health.ts';
import {
  announcesBgp,
  anycastFamilies,
  bfdTimers,
  CACHE_PORT,
  EXPORTER_PORTS,
  hasRole,
  lbHosts,
  PORTS,
  runsBird,
  type ExporterKind,
} from '../model/facts.ts';
import { familyOf } from '../model/net.ts';
import { transformsOf } from '../model/transforms.ts';
import type { Host, Site, Topology } from '../model/schema.ts';

/** The loopback addresses: what only the host's own processes reach. */
export const LOOPBACK4 = '127.0.0.1';
export const LOOPBACK6 = '::1';

/** Where the health checker tells its state over HTTP: 200 while it announces plainly, else 503. */
export const HEALTHCHECK_STATUS_PATH = '/anycast';
/** Where every exporter (haproxy's and the checker's included) answers Prometheus. */
export const METRICS_PATH = '/metrics';
/** haproxy's stats frontend: liveness (keepalived's track script), the stats page, local metrics. */
export const HAPROXY_ALIVE_PATH = '/haproxy-alive';
export const HAPROXY_STATS_PATH = '/stats';
/** Where nginx's stub_status answers: loopback only, never the host address haproxy sends traffic to. */
export const NGINX_STATUS = { address: LOOPBACK4, port: PORTS.http, path: '/nginx_status' } as const;
/** anycdn-thumbnailer's own status (its counters), on its loopback listener. */
export const THUMBNAILER_HEALTH_PATH = '/.anycdn/thumbnailer';

/** A stable key for what a listener is for; one purpose may have several endpoints (families, transports). */
export type Purpose =
  /** haproxy on the site's image VIP (both lb hosts bind it; keepalived decides which one holds it). */
  | 'image-vip-http'
  | 'image-vip-https'
  /** haproxy's stats frontend on haproxy.statsAddress, and on loopback for keepalived's check. */
  | 'haproxy-stats'
  | 'vrrp'
  /** A cache's one serving port on its host address: haproxy's traffic and its health check. */
  | 'cache-http'
  /** nginx's stub_status, for its exporter. */
  | 'cache-status'
  /** The image server again on loopback: where anycdn-thumbnailer reads the originals through this cache. */
  | 'cache-originals'
  /** anycdn-thumbnailer on loopback: nginx's upstream for derived-image misses. */
  | 'thumbnailer'
  /** Squid's cache manager, for its exporter. */
  | 'cache-manager'
  /** Knot on the anycast service addresses, on the host's own addresses, on loopback. */
  | 'dns-anycast'
  | 'dns-host'
  | 'dns-loopback'
  | 'bgp'
  | 'bfd'
  | 'bfd-multihop'
  /** The checker's verdict over HTTP (GET /anycast): what Global Accelerator polls. */
  | 'healthcheck-status'
  | `exporter-${ExporterKind | 'healthcheck'}`;

export type Reach =
  /** Anyone: image clients, resolvers, load balancers' health checks. */
  | { from: 'world' }
  /** Only processes on the host itself (a loopback address). */
  | { from: 'host' }
  /** The site's lb hosts (haproxy to the caches): their addresses and the VIP they may send from. */
  | { from: 'site-lb'; hosts: string[]; addresses: string[] }
  /** The other lb host of the pair (VRRP adverts). */
  | { from: 'lb-peer'; hosts: string[] }
  /** The site's BGP peers of the endpoint's family (sessions, and BFD for those that run it). */
  | { from: 'bgp-peers'; addresses: string[] }
  /** Prometheus, from monitoring.scrapeFrom: refused elsewhere by the daemon itself, or by the exporters' nftables table. */
  | { from: 'scrape'; prefixes: string[]; enforcedBy: 'daemon' | 'firewall' }
  /** The operator's own network: anycdn opens nothing for it (haproxy's stats on an address of its own). */
  | { from: 'operators' };

/** What answers while the service is healthy. */
export type Health =
  /** A GET of `path` (with `host` as the Host header, where one matters) answers `status`. */
  | { kind: 'http'; path: string; status: number; host?: string }
  /** A query for `name` answers (the checker asks for A and AAAA, and wants this site's VIPs). */
  | { kind: 'dns'; name: string };

export interface Endpoint {
  purpose: Purpose;
  /** The systemd unit that opens it, as in HostPlan.units. */
  unit: string;
  /** vrrp: IP protocol 112, no port. */
  transport: 'tcp' | 'udp' | 'vrrp';
  protocol: 'http' | 'https' | 'dns' | 'bgp' | 'bfd' | 'vrrp' | 'metrics';
  family: 4 | 6;
  /** The address it binds; absent when it takes every address of its family. */
  address?: string;
  /** tcp and udp. */
  port?: number;
  reach: Reach;
  health?: Health;
  /** The Prometheus job that scrapes it, and the path. */
  metrics?: { job: string; path: string };
  /** https: the certificate (chain + key PEM) it serves: installed by anycdn-cert-fetch with acme, else by the operator. */
  certPath?: string;
  /** vrrp: the interface the adverts run on. */
  interface?: string;
}

/** The scrape config's jobs, in its order: each `metrics` endpoint names one. */
export const METRICS_JOBS = ['node', 'bird', 'anycdn-healthcheck', 'haproxy', 'nginx', 'mtail', 'squid'] as const;

const WORLD: Reach = { from: 'world' };
const HOST: Reach = { from: 'host' };

function scrape(t: Topology, enforcedBy: 'daemon' | 'firewall'): Reach {
  return { from: 'scrape', prefixes: [...(t.cdn.monitoring?.scrapeFrom ?? [])], enforcedBy };
}

function exporter(t: Topology, host: Host, unit: string, kind: ExporterKind, enforcedBy: 'daemon' | 'firewall'): Endpoint {
  return { purpose: `exporter-${kind}`, unit, transport: 'tcp', protocol: 'metrics', family: 4, address: host.address, port: EXPORTER_PORTS[kind], reach: scrape(t, enforcedBy), metrics: { job: kind, path: METRICS_PATH } };
}

/** Knot: the anycast service addresses, the host's own, loopback (the checker asks there too), each over UDP and TCP. */
function knotEndpoints(t: Topology, host: Host): Endpoint[] {
  const at: [Purpose, string, Reach][] = [
    ...anycastFamilies(t).map((f): [Purpose, string, Reach] => ['dns-anycast', f.address, WORLD]),
    ['dns-host', host.address, WORLD],
    ...(host.address6 ? [['dns-host', host.address6, WORLD] as [Purpose, string, Reach]] : []),
    ['dns-loopback', LOOPBACK4, HOST],
    ['dns-loopback', LOOPBACK6, HOST],
  ];
  const health: Health = { kind: 'dns', name: t.cdn.imageHost };
  return at.flatMap(([purpose, address, reach]) =>
    (['udp', 'tcp'] as const).map((transport): Endpoint => ({ purpose, unit: 'knot', transport, protocol: 'dns', family: familyOf(address), address, port: PORTS.dns, reach, health })),
  );
}

/** bird listens on every address of each family it has peers in; BFD only for the sessions that run it. */
function birdEndpoints(site: Site): Endpoint[] {
  const out: Endpoint[] = [];
  for (const family of [4, 6] as const) {
    const peers = site.bgp.peers.filter((p) => familyOf(p.address) === family);
    if (peers.length === 0) continue;
    out.push({ purpose: 'bgp', unit: 'bird', transport: 'tcp', protocol: 'bgp', family, port: PORTS.bgp, reach: { from: 'bgp-peers', addresses: peers.map((p) => p.address) } });
    for (const [purpose, multihop, port] of [['bfd', false, PORTS.bfd], ['bfd-multihop', true, PORTS.bfdMultihop]] as const) {
      const bfd = peers.filter((p) => bfdTimers(p) !== undefined && (p.multihop !== undefined) === multihop);
      if (bfd.length > 0) out.push({ purpose, unit: 'bird', transport: 'udp', protocol: 'bfd', family, port, reach: { from: 'bgp-peers', addresses: bfd.map((p) => p.address) } });
    }
  }
  return out;
}

function healthcheckEndpoints(t: Topology, host: Host): Endpoint[] {
  const status = { unit: 'anycdn-healthcheck', transport: 'tcp', family: 4, address: host.address, port: t.cdn.healthcheck.statusPort } as const;
  return [
    { ...status, purpose: 'healthcheck-status', protocol: 'http', reach: WORLD, health: { kind: 'http', path: HEALTHCHECK_STATUS_PATH, status: 200 } },
    // The same socket: the checker answers /metrics there, to monitoring.scrapeFrom only.
    ...(t.cdn.monitoring ? [{ ...status, purpose: 'exporter-healthcheck', protocol: 'metrics', reach: scrape(t, 'daemon'), metrics: { job: 'anycdn-healthcheck', path: METRICS_PATH } } as const] : []),
  ];
}

/** haproxy: the VIP (http, and https with the model's certificate), its stats frontend, its exporter. */
function haproxyEndpoints(t: Topology, site: Site, host: Host): Endpoint[] {
  const vips = [site.vip.address, ...(site.vip.address6 ? [site.vip.address6] : [])];
  const health: Health = { kind: 'http', path: t.cdn.healthcheck.path, status: 200, host: t.cdn.imageHost };
  const vip = (purpose: Purpose, protocol: 'http' | 'https', port: number, extra: Partial<Endpoint> = {}) =>
    vips.map((address): Endpoint => ({ purpose, unit: 'haproxy', transport: 'tcp', protocol, family: familyOf(address), address, port, reach: WORLD, health, ...extra }));
  const https = site.haproxy.https;
  const stats = site.haproxy.statsAddress;
  const alive: Health = { kind: 'http', path: HAPROXY_ALIVE_PATH, status: 200 };
  const statsAt = (address: string): Endpoint => ({
    purpose: 'haproxy-stats',
    unit: 'haproxy',
    transport: 'tcp',
    protocol: 'http',
    family: 4,
    address,
    port: PORTS.haproxyStats,
    reach: address === LOOPBACK4 ? HOST : { from: 'operators' },
    health: alive,
  });
  return [
    ...vip('image-vip-http', 'http', PORTS.http),
    ...(https ? vip('image-vip-https', 'https', PORTS.https, { certPath: https.certPath }) : []),
    statsAt(stats),
    // keepalived on this host checks this haproxy through loopback, whatever the stats address.
    ...(stats === LOOPBACK4 ? [] : [statsAt(LOOPBACK4)]),
    ...(t.cdn.monitoring ? [exporter(t, host, 'haproxy', 'haproxy', 'daemon')] : []),
  ];
}

function keepalivedEndpoints(site: Site, host: Host): Endpoint[] {
  const reach: Reach = { from: 'lb-peer', hosts: lbHosts(site).filter((h) => h.name !== host.name).map((h) => h.name) };
  return ([4, ...(site.vip.address6 ? [6 as const] : [])] as const).map((family): Endpoint => ({ purpose: 'vrrp', unit: 'keepalived', transport: 'vrrp', protocol: 'vrrp', family, reach, interface: host.interface }));
}

/** The site's lb hosts in model order, and the VIP they may send from: who reaches a cache. */
function siteLb(site: Site): Reach {
  const lbs = site.hosts.filter((h) => hasRole(h, 'lb'));
  return { from: 'site-lb', hosts: lbs.map((h) => h.name), addresses: [...lbs.map((h) => h.address), site.vip.address] };
}

function cacheEndpoints(t: Topology, site: Site, host: Host, engine: 'nginx' | 'squid'): Endpoint[] {
  const check = CACHE_HEALTH[engine];
  const serving: Endpoint = {
    purpose: 'cache-http',
    unit: engine,
    transport: 'tcp',
    protocol: 'http',
    family: 4,
    address: host.address,
    port: CACHE_PORT,
    reach: siteLb(site),
    health: { kind: 'http', path: check.path, status: check.expectStatus, host: t.cdn.imageHost },
  };
  const local = (purpose: Purpose, address: string, port: number, health?: Health): Endpoint => ({ purpose, unit: engine, transport: 'tcp', protocol: 'http', family: 4, address, port, reach: HOST, ...(health ? { health } : {}) });
  if (engine === 'nginx') {
    return [
      serving,
      local('cache-status', NGINX_STATUS.address, NGINX_STATUS.port, { kind: 'http', path: NGINX_STATUS.path, status: 200 }),
      ...(transformsOf(t) ? [local('cache-originals', LOOPBACK4, PORTS.nginxOriginals)] : []),
    ];
  }
  return [serving, ...(t.cdn.monitoring ? [local('cache-manager', LOOPBACK4, PORTS.squidManager)] : [])];
}

/** The listeners one unit opens on a host ([] for a unit that opens none). */
export function unitEndpoints(t: Topology, site: Site, host: Host, unit: string): Endpoint[] {
  switch (unit) {
    case 'knot':
      return knotEndpoints(t, host);
    case 'bird':
      return announcesBgp(site) ? birdEndpoints(site) : [];
    case 'anycdn-healthcheck':
      return healthcheckEndpoints(t, host);
    case 'haproxy':
      return haproxyEndpoints(t, site, host);
    case 'keepalived':
      return keepalivedEndpoints(site, host);
    case 'nginx':
    case 'squid':
      return cacheEndpoints(t, site, host, unit);
    case 'anycdn-thumbnailer':
      return [{ purpose: 'thumbnailer', unit, transport: 'tcp', protocol: 'http', family: 4, address: LOOPBACK4, port: PORTS.thumbnailer, reach: HOST, health: { kind: 'http', path: THUMBNAILER_HEALTH_PATH, status: 200 } }];
    case 'prometheus-node-exporter':
      return [exporter(t, host, unit, 'node', 'firewall')];
    case 'prometheus-bird-exporter':
      return runsBird(site, host) ? [exporter(t, host, unit, 'bird', 'firewall')] : [];
    case 'prometheus-nginx-exporter':
      return [exporter(t, host, unit, 'nginx', 'firewall')];
    case 'mtail':
      return [exporter(t, host, unit, 'mtail', 'firewall')];
    case 'prometheus-squid-exporter':
      return [exporter(t, host, unit, 'squid', 'firewall')];
    default:
      return [];
  }
}

/** Every listener of a host's units, in unit order. */
export function hostEndpoints(t: Topology, site: Site, host: Host, units: { name: string }[]): Endpoint[] {
  return units.flatMap((u) => unitEndpoints(t, site, host, u.name));
}

/**
 * The certificate an lb host's haproxy serves on the image VIP (the certPath of its https
 * endpoint), or undefined where it serves no HTTPS: what the certificate programs install, the
 * checkers' fixtures provide and the expiry alert names.
 */
export function servedCertPath(t: Topology, site: Site, host: Host): string | undefined {
  if (!hasRole(host, 'lb')) return undefined;
  return withPurpose(unitEndpoints(t, site, host, 'haproxy'), 'image-vip-https')[0]?.certPath;
}

/** The endpoints of a purpose, in order. */
export function withPurpose(endpoints: Endpoint[], purpose: Purpose): Endpoint[] {
  return endpoints.filter((e) => e.purpose === purpose);
}

/** The first endpoint of a purpose a unit opens on a host: what a renderer binds or points at. */
export function endpointOf(t: Topology, site: Site, host: Host, unit: string, purpose: Purpose): Endpoint {
  const [e] = withPurpose(unitEndpoints(t, site, host, unit), purpose);
  if (!e) throw new Error(`internal: ${unit} on ${host.name} has no ${purpose} endpoint`);
  return e;
}

/** The endpoints on a site's image VIP, one per family: both lb hosts bind the same ones. */
export function vipEndpoints(t: Topology, site: Site, purpose: 'image-vip-http' | 'image-vip-https'): Endpoint[] {
  const lb = lbHosts(site)[0];
  if (!lb) throw new Error(`internal: site ${site.id} has no lb host (the model rule should have caught it)`);
  return withPurpose(unitEndpoints(t, site, lb, 'haproxy'), purpose);
}

/** The path an http(s) endpoint's health probe GETs. */
export function healthPath(e: Endpoint): string {
  if (e.health?.kind !== 'http') throw new Error(`internal: endpoint ${e.purpose} of ${e.unit} has no HTTP health path`);
  return e.health.path;
}

/** `address:port`, the IPv6 address in brackets (haproxy's bind, nginx's listen, a URL's authority). */
export function hostPort(e: Endpoint): string {
  if (e.address === undefined || e.port === undefined) throw new Error(`internal: endpoint ${e.purpose} of ${e.unit} has no single address and port`);
  return `${e.family === 6 ? `[${e.address}]` : e.address}:${e.port}`;
}

const DEFAULT_PORTS: Record<string, number> = { http: PORTS.http, https: PORTS.https };

/**
 * The URL a probe GETs on an http(s) endpoint: its health path, or `path`. `defaultPort: 'omit'`
 * leaves out the scheme's own port, as a URL is usually written.
 */
export function endpointUrl(e: Endpoint, opts: { path?: string; defaultPort?: 'keep' | 'omit' } = {}): string {
  if (e.protocol !== 'http' && e.protocol !== 'https') throw new Error(`internal: endpoint ${e.purpose} of ${e.unit} does not speak HTTP`);
  const path = opts.path ?? healthPath(e);
  const authority = opts.defaultPort === 'omit' && DEFAULT_PORTS[e.protocol] === e.port ? hostPort(e).replace(/:\d+$/, '') : hostPort(e);
  return `${e.protocol}://${authority}${path}`;
}
