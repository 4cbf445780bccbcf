// Security groups of an aws site, as data: one group per role plus a base group every host has.
// Ingress is only what each role serves; egress is only what each role calls. No SSH anywhere:
// operators use SSM Session Manager.
import type { Host, Site, Topology } from '../model/schema.ts';
import { CACHE_PORT } from '../render/cache-health.ts';
import { originTargets, shieldTarget } from '../model/facts.ts';
import { EXPORTER_PORTS } from '../monitoring/ports.ts';

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

export function securityGroups(t: Topology, site: Site): SecurityGroupShape[] {
  const statusPort = t.cdn.healthcheck.statusPort;
  const lbIngress: SecurityRule[] = [{ protocol: 'tcp', port: 80, peer: ANY, description: 'image clients (http) to the VIP' }];
  if (site.haproxy.https) lbIngress.push({ protocol: 'tcp', port: 443, peer: ANY, description: 'image clients (https) to the VIP' });
  lbIngress.push({ protocol: 'vrrp', peer: { group: 'lb' }, description: 'keepalived VRRP adverts, only between the lb pair' }, ...scrapes(t, 'haproxy'));
  return [
    {
      name: 'base',
      description: `anycdn ${site.id}: every host; no ingress but Prometheus, egress to https for packages, S3 and SSM`,
      ingress: scrapes(t, 'node'),
      // https only: the bootstrap points apt at https mirrors, so no group but the caches' opens
      // port 80, and the caches' port-80 rules (their shield, an http origin) mean what they say.
      egress: [{ protocol: 'tcp', port: 443, peer: ANY, description: 'apt, S3, SSM and EC2 APIs over https' }],
    },
    {
      name: 'lb',
      description: `anycdn ${site.id}: haproxy + keepalived pair holding the image VIP`,
      ingress: lbIngress,
      egress: [
        { protocol: 'tcp', port: CACHE_PORT, peer: { group: 'cache' }, description: 'haproxy to the caches' },
        { protocol: 'vrrp', peer: { group: 'lb' }, description: 'keepalived VRRP adverts, only between the lb pair' },
      ],
    },
    {
      name: 'dns',
      description: `anycdn ${site.id}: Knot authoritative DNS behind Global Accelerator`,
      ingress: [
        { protocol: 'udp', port: 53, peer: ANY, description: 'DNS queries (Global Accelerator keeps the client address)' },
        { protocol: 'tcp', port: 53, peer: ANY, description: 'DNS over TCP (truncated answers)' },
        // Route 53's health checkers poll it for Global Accelerator, from ranges AWS publishes as
        // the managed prefix list com.amazonaws.<region>.route53-healthchecks. Its id differs per
        // region and cannot be resolved offline, so the rule is open to any source: the endpoint
        // tells only 200 or 503. The hosts have no public address, so only what Global
        // Accelerator forwards reaches it; the prefix list would narrow it further once its id
        // is pinned per region.
        { protocol: 'tcp', port: statusPort, peer: ANY, description: 'Global Accelerator health checks: GET /anycast on the checker' },
      ],
      egress: [],
    },
    {
      name: 'cache',
      description: `anycdn ${site.id}: image caches, reachable only from the lb pair`,
      ingress: [{ protocol: 'tcp', port: CACHE_PORT, peer: { group: 'lb' }, description: 'haproxy to the cache' }, ...scrapes(t, ...cacheEngines(site))],
      egress: cacheEgress(t, site),
    },
  ];
}

/**
 * Prometheus to the exporters of a group, from monitoring.scrapeFrom's IPv4 prefixes (aws hosts
 * have no IPv6 address). The checker's /metrics is on its status port, which the dns group
 * already admits from anywhere; the checker itself refuses other sources there.
 */
function scrapes(t: Topology, ...kinds: (keyof typeof EXPORTER_PORTS)[]): SecurityRule[] {
  const m = t.cdn.monitoring;
  if (!m) return [];
  const v4 = m.scrapeFrom.filter((p) => !p.includes(':'));
  return kinds.flatMap((k) => v4.map((cidr): SecurityRule => ({ protocol: 'tcp', port: EXPORTER_PORTS[k], peer: { cidrIpv4: cidr }, description: `Prometheus (${cidr}) to the ${k} exporter` })));
}

function cacheEngines(site: Site): ('nginx' | 'squid')[] {
  return [...new Set(site.hosts.flatMap((h) => (h.roles.includes('cache') && h.cacheEngine ? [h.cacheEngine] : [])))].sort();
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
  return ['base', ...(['lb', 'dns', 'cache'] as const).filter((r) => host.roles.includes(r))];
}
