// The lab's shape, computed from the model and nothing else (pure): which network namespaces,
// which veth links and bridges, which addresses and routes. lib/lab/up.ts carries it out.
//
//   client ns ── router ns ──┬── site switch (bridge) ── every host of the site
//                            └── core switch (bridge) ── other routers, origin
//
// Each site's router stands in for its upstream: it owns the model's peer addresses on the site
// segment and runs bird with the peer's ASN, so every BGP session is exactly the one the model
// describes. Routers peer with each other over the core, forming a small internet.
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

/** A veth pair; `bridged` ends are enslaved to br0 in their (switch) namespace. */
export interface Link {
  a: Endpoint;
  b: Endpoint & { bridged: boolean };
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
  /** The router's addresses on the site segment (the peers' addresses, or a chosen gateway). */
  site4: string;
  site6?: string;
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
  switches: string[];
  namespaces: string[];
  links: Link[];
  hosts: LabHost[];
  routers: LabRouter[];
  clients: LabClient[];
  /** `ip route` arguments per namespace (default routes, origin's return routes). */
  routes: { ns: string; args: string[] }[];
  /** Namespaces that forward packets. */
  forwarding: string[];
}

export const nsOf = {
  host: (host: string) => `${NS_PREFIX}h-${host}`,
  switch: (site: string) => `${NS_PREFIX}sw-${site}`,
  router: (site: string) => `${NS_PREFIX}rt-${site}`,
  client: (site: string) => `${NS_PREFIX}cl-${site}`,
};

export function planLab(t: Topology): LabPlan {
  const origins = originTargets(t).map((_, i) => labOrigin(i));
  const plan: LabPlan = { switches: [CORE.ns], namespaces: [CORE.ns, ...origins.map((o) => o.ns)], links: [], hosts: [], routers: [], clients: [], routes: [], forwarding: [] };
  t.sites.forEach((site, i) => {
    const sw = nsOf.switch(site.id);
    const rt = nsOf.router(site.id);
    const cl = nsOf.client(site.id);
    plan.switches.push(sw);
    plan.namespaces.push(sw, rt, cl);
    plan.forwarding.push(rt);
    let port = 0;
    const subnets = Object.values(site.subnets).map(parsePrefix).filter((p): p is Prefix => typeof p !== 'string');
    const withLength = (address: string) => {
      const p = subnets.find((s) => contains(s, address));
      if (!p) throw new Error(`internal: ${address} is in no subnet of ${site.id}`);
      return `${address}/${p.length}`;
    };
    const gw4 = routerAddress(site, subnets, 4);
    const gw6 = site.hosts.some((h) => h.address6) ? routerAddress(site, subnets, 6) : undefined;
    const routerSite = [...new Set([gw4, ...(gw6 ? [gw6] : []), ...site.bgp.peers.map((p) => p.address)])].map(withLength);

    for (const h of site.hosts) {
      const ns = nsOf.host(h.name);
      plan.namespaces.push(ns);
      plan.links.push({
        a: { ns, ifname: h.interface, addrs: [withLength(h.address), ...(h.address6 ? [withLength(h.address6)] : [])] },
        b: { ns: sw, ifname: `p${port++}`, addrs: [], bridged: true },
      });
      plan.hosts.push({ site: site.id, host: h.name, ns, gateway4: gw4, ...(gw6 && h.address6 ? { gateway6: gw6 } : {}) });
      plan.routes.push({ ns, args: ['route', 'add', 'default', 'via', gw4] });
      if (gw6 && h.address6) plan.routes.push({ ns, args: ['route', 'add', 'default', 'via', gw6] });
    }
    plan.links.push({ a: { ns: rt, ifname: 'site', addrs: routerSite }, b: { ns: sw, ifname: `p${port++}`, addrs: [], bridged: true } });
    const core4 = `${CORE.v4}.${i + 1}`;
    const core6 = `${CORE.v6}${i + 1}`;
    plan.links.push({ a: { ns: rt, ifname: 'core', addrs: [`${core4}/24`, `${core6}/64`] }, b: { ns: CORE.ns, ifname: `r${i}`, addrs: [], bridged: true } });
    const client4 = `100.65.${i}.1`;
    const client6 = `fd00:65:${i}::1`;
    const clientAddr4 = `100.65.${i}.2`;
    const clientAddr6 = `fd00:65:${i}::2`;
    plan.links.push({ a: { ns: rt, ifname: 'client', addrs: [`${client4}/24`, `${client6}/64`] }, b: { ns: cl, ifname: 'eth0', addrs: [`${clientAddr4}/24`, `${clientAddr6}/64`], bridged: false } });
    plan.routes.push({ ns: cl, args: ['route', 'add', 'default', 'via', client4] }, { ns: cl, args: ['route', 'add', 'default', 'via', client6] });
    plan.clients.push({ site: site.id, ns: cl, address4: clientAddr4, address6: clientAddr6 });
    plan.routers.push({
      site: site.id,
      ns: rt,
      coreAsn: site.bgp.peers[0]?.asn ?? 4200000000 + i,
      core4,
      core6,
      site4: gw4,
      ...(gw6 ? { site6: gw6 } : {}),
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
    plan.links.push({ a: { ns: o.ns, ifname: 'eth0', addrs: [`${o.v4}/24`, `${o.v6}/64`] }, b: { ns: CORE.ns, ifname: i === 0 ? 'origin' : `origin${i + 1}`, addrs: [], bridged: true } });
  });
  return plan;
}

/**
 * The router's address on the site segment for a family: the first peer of that family, or the
 * lowest address of the VIP's subnet (or the first subnet of that family) that the model leaves free.
 */
function routerAddress(site: Site, subnets: Prefix[], family: 4 | 6): string {
  const peer = site.bgp.peers.find((p) => familyOf(p.address) === family);
  if (peer) return peer.address;
  const used = new Set([site.vip.address, ...site.hosts.flatMap((h) => [h.address, ...(h.address6 ? [h.address6] : [])])].map(canonical));
  const subnet = subnets.find((s) => s.family === family && (family === 6 || contains(s, site.vip.address))) ?? subnets.find((s) => s.family === family);
  if (!subnet) throw new Error(`internal: site ${site.id} has no IPv${family} subnet`);
  const bytes = subnet.address.toByteArray();
  for (let n = 1; n < 255; n++) {
    const candidate = [...bytes];
    candidate[candidate.length - 1] = (candidate[candidate.length - 1]! + n) & 0xff;
    const addr = ipaddr.fromByteArray(candidate).toString();
    if (!used.has(canonical(addr)) && contains(subnet, addr)) return addr;
  }
  throw new Error(`internal: no free router address in ${subnet.text}`);
}
