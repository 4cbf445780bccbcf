// Security groups of an aws site, as data: one group per role plus a base group every host has.
// Ingress is exactly what the hosts' endpoints say each may be reached by (HostPlan.endpoints),
// in the group of the role whose unit opens it; egress is only what each role calls. No SSH
// anywhere: operators use SSM Session Manager.
import { hasRole, originTargets, PORTS, shieldTarget } from '../model/facts.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { healthPath, unitRole, type Endpoint, type HostPlan } from '../render/index.ts';

export type GroupName = 'base' | 'lb' | 'dns' | 'cache';

export type RulePeer = { anyIpv4: true } | { group: GroupName } | { cidrIpv4: string };

export interface SecurityRule {
  protocol: 'tcp' | 'udp' | 'vrrp';
  /** tcp and udp only. */
  port?: number;
  peer: RulePeer;
  description: string;
}

export interface SecurityGroupShape {
  name: GroupName;
  description: string;
  ingress: SecurityRule[];
  egress: SecurityRule[];
}

const ANY: RulePeer = { anyIpv4: true };
const GROUPS: GroupName[] = ['base', 'lb', 'dns', 'cache'];

/** The group an endpoint's rule belongs to: its unit's role, or base for what every host runs. */
const groupOf = (e: Endpoint): GroupName => unitRole(e.unit) ?? 'base';

/** What a rule admitting an endpoint says, from the endpoint's purpose. */
function describe(e: Endpoint, source: string): string {
  switch (e.purpose) {
    case 'image-vip-http':
    case 'image-vip-https':
      return `image clients (${e.protocol}) to the VIP`;
    case 'vrrp':
      return 'keepalived VRRP adverts, only between the lb pair';
    case 'cache-http':
      return 'haproxy to the cache';
    case 'dns-anycast':
    case 'dns-host':
      return e.transport === 'udp' ? 'DNS queries (Global Accelerator keeps the client address)' : 'DNS over TCP (truncated answers)';
    case 'healthcheck-status':
      return `Global Accelerator health checks: GET ${healthPath(e)} on the checker`;
    default:
      return e.metrics ? `Prometheus (${source}) to the ${e.metrics.job} exporter` : `${e.purpose} (${e.unit})`;
  }
}

/**
 * Who a rule admits, for an endpoint's reach; none for what only the host itself reaches, or what
 * the operator's own network admits. aws hosts have no IPv6 address: only IPv4 sources.
 */
function peersOf(e: Endpoint): { peer: RulePeer; source: string }[] {
  const r = e.reach;
  switch (r.from) {
    case 'world':
      return [{ peer: ANY, source: 'any' }];
    case 'site-lb':
    case 'lb-peer':
      return [{ peer: { group: 'lb' }, source: 'lb' }];
    case 'scrape':
      return r.prefixes.filter((p) => !p.includes(':')).map((cidr) => ({ peer: { cidrIpv4: cidr }, source: cidr }));
    case 'bgp-peers':
      return r.addresses.filter((a) => !a.includes(':')).map((a) => ({ peer: { cidrIpv4: `${a}/32` }, source: a }));
    case 'host':
    case 'operators':
      return [];
  }
}

/** Whom a rule admits, in the order a group lists them: the world, the site's own groups, Prometheus. */
const rank = (p: RulePeer) => ('anyIpv4' in p ? 0 : 'group' in p ? 1 : 2);
const key = (r: SecurityRule) => `${r.protocol}/${r.port ?? ''}/${JSON.stringify(r.peer)}`;

/** One rule per endpoint and source, deduplicated across the site's hosts and families. */
function ingressOf(endpoints: Endpoint[]): SecurityRule[] {
  const out = new Map<string, SecurityRule>();
  for (const e of endpoints) {
    if (e.family !== 4) continue;
    for (const { peer, source } of peersOf(e)) {
      const r: SecurityRule = { protocol: e.transport, ...(e.port === undefined ? {} : { port: e.port }), peer, description: describe(e, source) };
      if (!out.has(key(r))) out.set(key(r), r);
    }
  }
  const rules = [...out.values()];
  // A port open to the world already admits every narrower source there (the checker's /metrics
  // shares its status port, and the checker refuses other sources itself).
  const open = new Set(rules.filter((r) => 'anyIpv4' in r.peer).map((r) => `${r.protocol}/${r.port ?? ''}`));
  return rules.filter((r) => 'anyIpv4' in r.peer || !open.has(`${r.protocol}/${r.port ?? ''}`)).sort((a, b) => rank(a.peer) - rank(b.peer) || (a.port ?? 0) - (b.port ?? 0));
}

/** The groups of a site from its hosts' plans (the plans of `site`'s hosts; others are ignored). */
export function securityGroups(t: Topology, site: Site, plans: HostPlan[]): SecurityGroupShape[] {
  const endpoints = plans.filter((p) => p.site === site.id).flatMap((p) => p.endpoints);
  const inGroup = (g: GroupName) => endpoints.filter((e) => groupOf(e) === g);
  const ingress = (g: GroupName) => ingressOf(inGroup(g));
  return [
    {
      name: 'base',
      description: `anycdn ${site.id}: every host; no ingress but Prometheus, egress to https for packages, S3 and SSM`,
      ingress: ingress('base'),
      // https only: the bootstrap points apt at https mirrors, so no group but the caches' opens
      // port 80, and the caches' port-80 rules (their shield, an http origin) mean what they say.
      egress: [{ protocol: 'tcp', port: PORTS.https, peer: ANY, description: 'apt, S3, SSM and EC2 APIs over https' }],
    },
    {
      name: 'lb',
      description: `anycdn ${site.id}: haproxy + keepalived pair holding the image VIP`,
      ingress: ingress('lb'),
      egress: lbEgress(endpoints),
    },
    {
      name: 'dns',
      description: `anycdn ${site.id}: Knot authoritative DNS behind Global Accelerator`,
      // Route 53's health checkers poll the checker's status for Global Accelerator, from ranges
      // AWS publishes as the managed prefix list com.amazonaws.<region>.route53-healthchecks. Its
      // id differs per region and cannot be resolved offline, so the endpoint's reach is the
      // world: it tells only 200 or 503. The hosts have no public address, so only what Global
      // Accelerator forwards reaches it; the prefix list would narrow it further once its id is
      // pinned per region.
      ingress: ingress('dns'),
      egress: [],
    },
    {
      name: 'cache',
      description: `anycdn ${site.id}: image caches, reachable only from the lb pair`,
      ingress: ingress('cache'),
      egress: cacheEgress(t, site),
    },
  ];
}

/**
 * What the lb hosts call inside the site: every endpoint the lb hosts may reach (the caches'
 * serving port, the peer's VRRP), to other groups first, then within the lb group.
 */
function lbEgress(endpoints: Endpoint[]): SecurityRule[] {
  const out = new Map<string, SecurityRule>();
  for (const e of endpoints) {
    if (e.family !== 4 || (e.reach.from !== 'site-lb' && e.reach.from !== 'lb-peer')) continue;
    const group = groupOf(e);
    const r: SecurityRule = {
      protocol: e.transport,
      ...(e.port === undefined ? {} : { port: e.port }),
      peer: { group },
      description: e.purpose === 'cache-http' ? 'haproxy to the caches' : describe(e, 'lb'),
    };
    if (!out.has(key(r))) out.set(key(r), r);
  }
  return [...out.values()].sort((a, b) => Number('group' in a.peer && a.peer.group === 'lb') - Number('group' in b.peer && b.peer.group === 'lb'));
}

/**
 * Where the caches fetch misses, from the same targets their configs name: the origin (at every
 * site, as the fallback behind a shield too) and the shield's published VIP. The shield is one
 * known address, so its rule names it alone; an origin is a hostname whose addresses move, so its
 * port is open to any address. Stated even where the base group's 443 covers it, so the cache
 * group says what caches call.
 */
function cacheEgress(t: Topology, site: Site): SecurityRule[] {
  // One rule per port and peer, naming everything the caches reach there (origins in priority order).
  const rules = new Map<string, { port: number; peer: RulePeer; what: string[] }>();
  const add = (port: number, peer: RulePeer, what: string) => {
    const key = `${port} ${JSON.stringify(peer)}`;
    rules.set(key, { port, peer, what: [...(rules.get(key)?.what ?? []), what] });
  };
  for (const o of originTargets(t)) add(o.port, ANY, `the origin ${o.host}:${o.port}`);
  const shield = shieldTarget(t, site);
  if (shield) add(shield.port, { cidrIpv4: `${shield.address}/32` }, `the shield ${shield.site} at ${shield.address}:${shield.port}`);
  return [...rules.values()].map((r) => ({ protocol: 'tcp' as const, port: r.port, peer: r.peer, description: r.what.map((w) => `cache misses to ${w}`).join(', and ') }));
}

/** The groups a host is in: base plus one per role, in a fixed order. */
export function groupsOf(host: Host): GroupName[] {
  return GROUPS.filter((g) => g === 'base' || hasRole(host, g));
}
