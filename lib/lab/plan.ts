// The lab's shape, computed from the model and nothing else (pure): which network namespaces,
// which veth links and bridges, which addresses and routes. lib/lab/up.ts carries it out.
//
//   client ns ── router ns ──┬── site switch (a bridge per segment) ── every host of the site
//                            └── core switch (bridge) ── other routers, origin
//
// Each site's router stands in for its upstream: it owns the model's peer addresses (on the site
// segment, or on its lo for a multihop peer outside the site's subnets) and runs bird with the
// peer's ASN, so every BGP session is exactly the one the model describes. It is also every
// subnet's gateway. Routers peer with each other over the core, forming a small internet.
import ipaddr from 'ipaddr.js';
import { canonical, contains, familyOf, parsePrefix, type Prefix } from '../model/net.ts';
import { originTargets } from '../model/facts.ts';
import type { Site, Topology } from '../model/schema.ts';

export const NS_PREFIX = 'acdn-';
export const CORE = { ns: `${NS_PREFIX}core`, v4: '100.64.0', v6: 'fd00:64::' };
export const ORIGIN = { ns: `${NS_PREFIX}origin`, v4: '100.64.0.200', v6: 'fd00:64::200' };

/**
 * Where the lab runs the origin at priority `index` (originTargets): the primary at ORIGIN, each
 * further one in a namespace of its own on the core (acdn-origin2, ...), so one can die alone.
 */
export function labOrigin(index: number): { ns: string; v4: string; v6: string } {
  return index === 0 ? ORIGIN : { ns: `${NS_PREFIX}origin${index + 1}`, v4: `100.64.0.${200 + index}`, v6: `fd00:64::${200 + index}` };
}

export interface Endpoint {
  ns: string;
  ifname: string;
  /** Addresses with their prefix length, as `ip addr add` takes them. */
  addrs: string[];
}

/** A veth pair; a `bridge` end is enslaved to that bridge in its (switch) namespace. */
export interface Link {
  a: Endpoint;
  b: Endpoint & { bridge?: string };
}

export interface LabHost {
  site: string;
  host: string;
  ns: string;
  gateway4: string;
  gateway6?: string;
}

export interface LabRouter {
  site: string;
  ns: string;
  /** ASN on the core sessions: the first peer's ASN, or a private 32-bit one. */
  coreAsn: number;
  core4: string;
  core6: string;
  /** The router's addresses on the site's first segment (the peers' addresses, or a chosen gateway). */
  site4: string;
  site6?: string;
  /** The router's interface on each segment of the site: `site`, then `site1`, `site2`, ... */
  siteIfnames: string[];
  client4: string;
  client6: string;
}

export interface LabClient {
  site: string;
  ns: string;
  address4: string;
  address6: string;
}

export interface LabPlan {
  /** Bridges to create, by namespace: the core's, and one per segment of each site. */
  bridges: { ns: string; name: string }[];
  namespaces: string[];
  links: Link[];
  /**
   * Addresses on `lo` (with their length): a multihop peer outside the site's subnets is the
   * router's own address, reached through it as a carrier's router is, not on any segment.
   */
  loopbacks: { ns: string; addr: string }[];
  /**
   * The hop count of each such multihop peer: `multihop: N` says the peer is N hops from the
   * site's hosts, the first of them the site's router (their gateway). The router stands in for the
   * N - 2 routers between it and the carrier's edge as they would act: a packet to the peer's
   * address that arrives with a TTL (hop limit) below N is dropped, as one of them would have
   * dropped it for its TTL running out. So a session with fewer hops than the path needs fails,
   * and one with N comes up. Carried out with nftables in the router's namespace (network.ts).
   */
  hopFloors: { ns: string; address: string; minTtl: number }[];
  hosts: LabHost[];
  routers: LabRouter[];
  clients: LabClient[];
  /** `ip route` arguments per namespace (default routes, origin's return routes). */
  routes: { ns: string; args: string[] }[];
  /** Namespaces that forward packets. */
  forwarding: string[];
}

/**
 * The layer-2 segments of a site, each a bridge: a metal site is one segment holding all its
 * prefixes ("named prefixes of the site segment"); an aws site has one per subnet, as an EC2 subnet
 * is (its own availability zone, reached from the others only through the VPC's router).
 */
export function siteSegments(site: Site): Prefix[][] {
  const subnets = Object.values(site.subnets).map(parsePrefix).filter((p): p is Prefix => typeof p !== 'string');
  return site.platform === 'aws' ? subnets.map((p) => [p]) : [subnets];
}

export const nsOf = {
  host: (host: string) => `${NS_PREFIX}h-${host}`,
  switch: (site: string) => `${NS_PREFIX}sw-${site}`,
  router: (site: string) => `${NS_PREFIX}rt-${site}`,
  client: (site: string) => `${NS_PREFIX}cl-${site}`,
};

export function planLab(t: Topology): LabPlan {
  const origins = originTargets(t).map((_, i) => labOrigin(i));
  const plan: LabPlan = {
    bridges: [{ ns: CORE.ns, name: 'br0' }],
    namespaces: [CORE.ns, ...origins.map((o) => o.ns)],
    links: [],
    loopbacks: [],
    hopFloors: [],
    hosts: [],
    routers: [],
    clients: [],
    routes: [],
    forwarding: [],
  };
  t.sites.forEach((site, i) => {
    const sw = nsOf.switch(site.id);
    const rt = nsOf.router(site.id);
    const cl = nsOf.client(site.id);
    plan.namespaces.push(sw, rt, cl);
    plan.forwarding.push(rt);
    const segments = siteSegments(site);
    const subnets = segments.flat();
    const gateways = subnetGateways(site, subnets);
    const subnetOf = (address: string) => subnets.find((s) => contains(s, address));
    const withLength = (address: string) => {
      const p = subnetOf(address);
      if (!p) throw new Error(`internal: ${address} is in no subnet of ${site.id}`);
      return `${address}/${p.length}`;
    };
    const gatewayOf = (address: string) => {
      const g = gateways.get(subnetOf(address)?.text ?? '');
      if (!g) throw new Error(`internal: ${address} has no gateway at ${site.id}`);
      return g;
    };
    // A peer on a subnet is the router's address on that segment; any other (multihop) peer is an
    // address of the router's own, on lo, which the hosts reach through their gateway.
    const offLink = site.bgp.peers.filter((p) => !subnetOf(p.address));
    for (const a of [...new Set(offLink.map((p) => canonical(p.address)))]) plan.loopbacks.push({ ns: rt, addr: `${a}/${familyOf(a) === 4 ? 32 : 128}` });
    // validate insists on multihop for a peer off the subnets; two sessions to one address take the smaller.
    const floors = new Map<string, number>();
    for (const p of offLink) if (p.multihop !== undefined) floors.set(canonical(p.address), Math.min(p.multihop, floors.get(canonical(p.address)) ?? 255));
    for (const [address, minTtl] of floors) if (minTtl > 1) plan.hopFloors.push({ ns: rt, address, minTtl });

    let port = 0;
    const siteIfnames = segments.map((_, k) => (k === 0 ? 'site' : `site${k}`));
    segments.forEach((segment, k) => {
      const bridge = `br${k}`;
      plan.bridges.push({ ns: sw, name: bridge });
      const inSegment = (address: string) => segment.some((s) => contains(s, address));
      for (const h of site.hosts.filter((x) => inSegment(x.address))) {
        const ns = nsOf.host(h.name);
        plan.namespaces.push(ns);
        plan.links.push({
          a: { ns, ifname: h.interface, addrs: [withLength(h.address), ...(h.address6 ? [withLength(h.address6)] : [])] },
          b: { ns: sw, ifname: `p${port++}`, addrs: [], bridge },
        });
        const gateway4 = gatewayOf(h.address);
        const gateway6 = h.address6 ? gatewayOf(h.address6) : undefined;
        plan.hosts.push({ site: site.id, host: h.name, ns, gateway4, ...(gateway6 ? { gateway6 } : {}) });
        plan.routes.push({ ns, args: ['route', 'add', 'default', 'via', gateway4] });
        if (gateway6) plan.routes.push({ ns, args: ['route', 'add', 'default', 'via', gateway6] });
      }
      const onLink = [...segment.map((s) => gateways.get(s.text)!), ...site.bgp.peers.map((p) => p.address).filter(inSegment)];
      const addrs = [...new Set(onLink.map(canonical))].map(withLength);
      plan.links.push({ a: { ns: rt, ifname: siteIfnames[k]!, addrs }, b: { ns: sw, ifname: `p${port++}`, addrs: [], bridge } });
    });
    const core4 = `${CORE.v4}.${i + 1}`;
    const core6 = `${CORE.v6}${i + 1}`;
    plan.links.push({ a: { ns: rt, ifname: 'core', addrs: [`${core4}/24`, `${core6}/64`] }, b: { ns: CORE.ns, ifname: `r${i}`, addrs: [], bridge: 'br0' } });
    const client4 = `100.65.${i}.1`;
    const client6 = `fd00:65:${i}::1`;
    const clientAddr4 = `100.65.${i}.2`;
    const clientAddr6 = `fd00:65:${i}::2`;
    plan.links.push({ a: { ns: rt, ifname: 'client', addrs: [`${client4}/24`, `${client6}/64`] }, b: { ns: cl, ifname: 'eth0', addrs: [`${clientAddr4}/24`, `${clientAddr6}/64`] } });
    plan.routes.push({ ns: cl, args: ['route', 'add', 'default', 'via', client4] }, { ns: cl, args: ['route', 'add', 'default', 'via', client6] });
    plan.clients.push({ site: site.id, ns: cl, address4: clientAddr4, address6: clientAddr6 });
    const first6 = subnets.find((s) => s.family === 6);
    plan.routers.push({
      site: site.id,
      ns: rt,
      coreAsn: site.bgp.peers[0]?.asn ?? 4200000000 + i,
      core4,
      core6,
      site4: gatewayOf(site.vip.address),
      ...(first6 && site.hosts.some((h) => h.address6) ? { site6: gateways.get(first6.text)! } : {}),
      siteIfnames,
      client4,
      client6,
    });
    // The origins sit on the core; they reach each site and client net through that site's router.
    for (const o of origins) {
      for (const s of subnets) plan.routes.push({ ns: o.ns, args: ['route', 'add', s.text, 'via', s.family === 6 ? core6 : core4] });
      plan.routes.push({ ns: o.ns, args: ['route', 'add', `100.65.${i}.0/24`, 'via', core4] });
    }
  });
  origins.forEach((o, i) => {
    plan.links.push({ a: { ns: o.ns, ifname: 'eth0', addrs: [`${o.v4}/24`, `${o.v6}/64`] }, b: { ns: CORE.ns, ifname: i === 0 ? 'origin' : `origin${i + 1}`, addrs: [], bridge: 'br0' } });
  });
  return plan;
}

/**
 * The router's address in each subnet, by the subnet's text: the first peer on that subnet (the
 * model's own upstream address), or the lowest address the model leaves free. On an aws subnet
 * that is the network address + 1, where EC2's VPC router sits (the model keeps the first four
 * addresses free there).
 */
function subnetGateways(site: Site, subnets: Prefix[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const subnet of subnets) {
    const peer = site.bgp.peers.find((p) => contains(subnet, p.address));
    out.set(subnet.text, peer ? peer.address : freeAddress(site, subnet));
  }
  return out;
}

/** The lowest address of `subnet` that the model does not use (VIPs, hosts, peers). */
function freeAddress(site: Site, subnet: Prefix): string {
  const used = new Set([site.vip.address, ...(site.vip.address6 ? [site.vip.address6] : []), ...site.hosts.flatMap((h) => [h.address, ...(h.address6 ? [h.address6] : [])]), ...site.bgp.peers.map((p) => p.address)].map(canonical));
  const bytes = subnet.address.toByteArray();
  for (let n = 1; n < 255; n++) {
    const candidate = [...bytes];
    candidate[candidate.length - 1] = (candidate[candidate.length - 1]! + n) & 0xff;
    const addr = ipaddr.fromByteArray(candidate).toString();
    if (!used.has(canonical(addr)) && contains(subnet, addr)) return addr;
  }
  throw new Error(`internal: no free router address in ${subnet.text}`);
}
