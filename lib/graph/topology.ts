// The topology as a graph, built as data (viz.js takes a graph object, so no DOT text is quoted
// by hand): each site a cluster with its VIP and hosts and their roles; the upstreams by ASN with
// the dns hosts' BGP sessions; the anycast prefixes they announce (aws sites through Global
// Accelerator); the origin shield and the origin; optionally the lab's routers, core and clients.
// Pure and sorted by model keys, so the same model always draws the same picture.
import { anycastFamilies, announcesBgp, bfdTimers, cacheHosts, dnsHosts, hasRole, lbHosts, originAsn, originEntries, publishedVip, shieldTarget, targetOf } from '../model/facts.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import type { LabPlan } from '../lab/plan.ts';

type Attributes = Record<string, string | number | boolean>;
export interface GraphNode {
  name: string;
  attributes: Attributes;
}
export interface GraphEdge {
  tail: string;
  head: string;
  attributes?: Attributes;
}
export interface Subgraph {
  name: string;
  graphAttributes: Attributes;
  nodes: GraphNode[];
  edges?: GraphEdge[];
}
export interface TopologyGraph {
  directed: true;
  graphAttributes: Attributes;
  nodeAttributes: Attributes;
  edgeAttributes: Attributes;
  nodes: GraphNode[];
  edges: GraphEdge[];
  subgraphs: Subgraph[];
}

const id = {
  anycast: 'anycast',
  origin: 'origin',
  accelerator: 'global-accelerator',
  host: (h: Host) => `host:${h.name}`,
  vip: (s: Site) => `vip:${s.id}`,
  upstream: (s: Site, asn: number) => `upstream:${s.id}:${asn}`,
  router: (site: string) => `lab-router:${site}`,
  client: (site: string) => `lab-client:${site}`,
  core: 'lab-core',
};

const ROLE_COLOURS: Record<string, string> = { lb: '#dbeafe', dns: '#dcfce7', cache: '#fef3c7' };

function hostNode(h: Host): GraphNode {
  const colour = ROLE_COLOURS[hasRole(h, 'lb') ? 'lb' : hasRole(h, 'dns') ? 'dns' : 'cache']!;
  const engine = h.cacheEngine ? ` (${h.cacheEngine})` : '';
  return { name: id.host(h), attributes: { label: `${h.name}\\n${[...h.roles].sort().join(', ')}${engine}\\n${h.address}`, shape: 'box', style: 'rounded,filled', fillcolor: colour } };
}

/** Peers grouped by upstream ASN: one node per upstream of a site, naming its sessions, each with BFD or not. */
function upstreams(site: Site): { asn: number; names: string[]; sessions: string[] }[] {
  const byAsn = new Map<number, { asn: number; names: string[]; sessions: string[] }>();
  for (const p of site.bgp.peers) {
    const u = byAsn.get(p.asn) ?? { asn: p.asn, names: [], sessions: [] };
    u.names.push(p.name);
    u.sessions.push(`${p.name}: eBGP${bfdTimers(p) ? ' + BFD' : ''}`);
    byAsn.set(p.asn, u);
  }
  return [...byAsn.values()].sort((a, b) => a.asn - b.asn);
}

export interface GraphOptions {
  /** The accelerator announces the anycast IPv4 prefixes (anycdn:global-byoip); else its own addresses. */
  byoip?: boolean;
}

export function topologyGraph(t: Topology, lab?: LabPlan, opts: GraphOptions = {}): TopologyGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const subgraphs: Subgraph[] = [];
  const prefixes = anycastFamilies(t).map((f) => f.prefix);
  nodes.push({ name: id.anycast, attributes: { label: `anycast DNS\\n${prefixes.join('\\n')}`, shape: 'ellipse', style: 'filled', fillcolor: '#ede9fe' } });
  // One node for the origins: each in priority order, the next one tried when the one above fails.
  const originLabel = originEntries(t.cdn)
    .map((e, i, all) => {
      const o = targetOf(e);
      const what = 's3' in e ? `S3 ${e.s3.bucket}\\n(${e.s3.region})` : e.http.url;
      return `${all.length > 1 ? `origin ${i + 1}` : 'origin'}: ${what}\\n${o.tls ? 'https' : 'http'} :${o.port}`;
    })
    .join('\\n');
  nodes.push({ name: id.origin, attributes: { label: originLabel, shape: 'cylinder', style: 'filled', fillcolor: '#fee2e2' } });
  if (t.sites.some((s) => s.platform === 'aws')) {
    // What it really announces: with BYOIP the IPv4 anycast prefixes (never IPv6); without, two
    // addresses of AWS's own, which nothing in the model's DNS points at.
    const v4 = anycastFamilies(t).filter((f) => f.family === 4).map((f) => f.prefix);
    const own = opts.byoip ? '' : '\\nannounces its own 2 IPv4 addresses\\n(AWS-assigned, not the anycast prefixes)';
    nodes.push({ name: id.accelerator, attributes: { label: `AWS Global Accelerator\\n(stack anycdn-global)${own}`, shape: 'hexagon' } });
    if (opts.byoip) edges.push({ tail: id.accelerator, head: id.anycast, attributes: { label: `announces (BYOIP)\\n${v4.join('\\n')}`, style: 'bold' } });
  }

  for (const site of t.sites) {
    const shield = t.cdn.shield === site.id ? ', origin shield' : '';
    const vip6 = site.vip.address6 ? `\\nVIP ${site.vip.address6}` : '';
    const vipLabel = site.vip.elasticIp ? `VIP ${site.vip.address}\\nElastic IP ${publishedVip(site)}` : `VIP ${site.vip.address}${vip6}`;
    subgraphs.push({
      name: `cluster_${site.id}`,
      graphAttributes: { labelloc: 'b', label: `${site.id}: ${site.location}\\n${site.platform}${site.region ? ` ${site.region}` : ''}${announcesBgp(site) ? `, AS${originAsn(t)}` : ''}${shield}`, style: 'rounded', color: '#64748b' },
      nodes: [{ name: id.vip(site), attributes: { label: `${vipLabel}\\nVRRP id ${site.vip.virtualRouterId}`, shape: 'octagon' } }, ...site.hosts.map(hostNode)],
    });
    for (const lb of lbHosts(site)) {
      edges.push({ tail: id.vip(site), head: id.host(lb), attributes: { label: 'VRRP', style: 'dashed', arrowhead: 'none' } });
      for (const c of cacheHosts(site)) edges.push({ tail: id.host(lb), head: id.host(c), attributes: { color: '#94a3b8' } });
    }
    const toShield = shieldTarget(t, site);
    for (const c of cacheHosts(site)) {
      if (toShield) {
        edges.push({ tail: id.host(c), head: `vip:${toShield.site}`, attributes: { label: 'misses', color: '#b45309' } });
        edges.push({ tail: id.host(c), head: id.origin, attributes: { label: 'if the shield fails', style: 'dashed', color: '#b45309' } });
      } else {
        edges.push({ tail: id.host(c), head: id.origin, attributes: { label: 'misses', color: '#b45309' } });
      }
    }
    if (site.platform === 'aws') {
      for (const d of dnsHosts(site)) edges.push({ tail: id.accelerator, head: id.host(d), attributes: { label: 'health: GET /anycast', style: 'dashed' } });
    }
    if (announcesBgp(site)) {
      for (const u of upstreams(site)) {
        const up = id.upstream(site, u.asn);
        nodes.push({ name: up, attributes: { label: `upstream AS${u.asn}\\n${u.names.join(', ')}`, shape: 'hexagon' } });
        for (const d of dnsHosts(site)) edges.push({ tail: id.host(d), head: up, attributes: { label: u.sessions.join('\\n'), color: '#15803d' } });
        edges.push({ tail: up, head: id.anycast, attributes: { label: 'announces', style: 'bold' } });
      }
    }
  }

  if (lab) {
    const labNodes: GraphNode[] = [{ name: id.core, attributes: { label: 'lab core', shape: 'point', width: 0.2 } }];
    const labEdges: GraphEdge[] = [];
    for (const r of [...lab.routers].sort((a, b) => (a.site < b.site ? -1 : 1))) {
      labNodes.push({ name: id.router(r.site), attributes: { label: `lab router ${r.site}\\nAS${r.coreAsn}\\n${r.site4}`, shape: 'diamond' } });
      labEdges.push({ tail: id.router(r.site), head: id.core, attributes: { arrowhead: 'none' } });
      const site = t.sites.find((s) => s.id === r.site);
      for (const u of site && announcesBgp(site) ? upstreams(site) : []) {
        edges.push({ tail: id.router(r.site), head: id.upstream(site!, u.asn), attributes: { label: 'plays', style: 'dotted' } });
      }
      if (site && !announcesBgp(site)) edges.push({ tail: id.router(r.site), head: id.vip(site), attributes: { label: 'unicast only', style: 'dotted' } });
    }
    for (const c of [...lab.clients].sort((a, b) => (a.site < b.site ? -1 : 1))) {
      labNodes.push({ name: id.client(c.site), attributes: { label: `lab client ${c.site}\\n${c.address4}`, shape: 'box' } });
      labEdges.push({ tail: id.client(c.site), head: id.router(c.site), attributes: { arrowhead: 'none' } });
    }
    subgraphs.push({ name: 'cluster_lab', graphAttributes: { label: 'the lab (anycdn lab up)', style: 'dashed', color: '#a855f7' }, nodes: labNodes, edges: labEdges });
  }

  return {
    directed: true,
    graphAttributes: { rankdir: 'LR', fontname: 'Helvetica', fontsize: 11, label: `anycdn: ${t.cdn.imageHost} (zone ${t.cdn.dns.zone})`, labelloc: 't', nodesep: 0.3, ranksep: 0.6 },
    nodeAttributes: { fontname: 'Helvetica', fontsize: 10 },
    edgeAttributes: { fontname: 'Helvetica', fontsize: 9 },
    nodes,
    edges,
    subgraphs,
  };
}
