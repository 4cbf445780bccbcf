// anycdn graph: what the picture holds (read from the graph as data and from the SVG's node
// titles), that --lab adds the lab's routers and clients, and that the README's picture
// (docs/topology.svg) is what `anycdn graph` draws for the shipped sites today.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { graphSvg } from '../../lib/graph/svg.ts';
import { topologyGraph, type TopologyGraph } from '../../lib/graph/topology.ts';
import { planLab } from '../../lib/lab/plan.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const t = loadTopology(SITES_DIR);
const DOCS_SVG = join(import.meta.dirname, '..', '..', 'docs', 'topology.svg');

const labels = (g: TopologyGraph) => new Map([...g.nodes, ...g.subgraphs.flatMap((s) => s.nodes)].map((n) => [n.name, String(n.attributes.label)]));
const edgesOf = (g: TopologyGraph) => [...g.edges, ...g.subgraphs.flatMap((s) => s.edges ?? [])].map((e) => `${e.tail} -> ${e.head}${e.attributes?.label ? ` [${e.attributes.label}]` : ''}`);

describe('the topology graph', () => {
  const g = topologyGraph(t);
  const l = labels(g);

  it('has each site as a cluster, with its VIP and every host with its roles and address', () => {
    expect(g.subgraphs.map((s) => [s.name, s.graphAttributes.label])).toEqual([
      ['cluster_ams', 'ams: Amsterdam, NL\\nmetal, AS64496, origin shield'],
      ['cluster_nyc', 'nyc: New York, US\\nmetal, AS64496'],
      ['cluster_sin', 'sin: Singapore, SG\\naws ap-southeast-1'],
    ]);
    // Both families of a dual-stack VIP.
    expect(l.get('vip:ams')).toBe('VIP 198.51.100.10\\nVIP 2001:db8:a::10\\nVRRP id 10');
    expect(l.get('vip:sin')).toBe('VIP 10.30.0.10\\nElastic IP 198.51.100.130\\nVRRP id 30');
    expect(l.get('host:nyc-cache1')).toBe('nyc-cache1\\ncache (squid)\\n198.51.100.85');
    expect(l.get('host:ams-lb1')).toBe('ams-lb1\\ndns, lb\\n198.51.100.11');
    expect(g.subgraphs.flatMap((s) => s.nodes.filter((n) => n.name.startsWith('host:')).map((n) => n.name.slice(5)))).toEqual(t.sites.flatMap((s) => s.hosts.map((h) => h.name)));
  });

  it('has the upstreams by ASN, the sessions of each dns host, and what announces the anycast prefixes', () => {
    expect(l.get('anycast')).toBe('anycast DNS\\n192.0.2.0/24\\n2001:db8:53::/48\\n203.0.113.0/24\\n2001:db8:54::/48');
    expect(l.get('upstream:ams:64501')).toBe('upstream AS64501\\ntransit1, transit1-v6');
    const e = edgesOf(g);
    expect(e.filter((x) => x.includes('upstream:ams'))).toEqual([
      'host:ams-lb1 -> upstream:ams:64501 [transit1: eBGP + BFD\\ntransit1-v6: eBGP + BFD]',
      'host:ams-lb2 -> upstream:ams:64501 [transit1: eBGP + BFD\\ntransit1-v6: eBGP + BFD]',
      'upstream:ams:64501 -> anycast [announces]',
    ]);
    // nyc's v6 session has no BFD, and says so.
    expect(e.filter((x) => x.startsWith('host:nyc-lb1 -> upstream'))).toEqual(['host:nyc-lb1 -> upstream:nyc:64502 [transit1: eBGP + BFD\\ntransit1-v6: eBGP]']);
    // sin has no BGP peers: Global Accelerator polls its dns hosts. Without BYOIP it announces two
    // addresses of its own, not the model's prefixes.
    expect(l.get('global-accelerator')).toBe('AWS Global Accelerator\\n(stack anycdn-global)\\nannounces its own 2 IPv4 addresses\\n(AWS-assigned, not the anycast prefixes)');
    expect(e.filter((x) => x.startsWith('global-accelerator'))).toEqual([
      'global-accelerator -> host:sin-lb1 [health: GET /anycast]',
      'global-accelerator -> host:sin-lb2 [health: GET /anycast]',
    ]);
  });

  it('with BYOIP the accelerator announces the anycast IPv4 prefixes, never the IPv6 ones', () => {
    const byoip = topologyGraph(t, undefined, { byoip: true });
    expect(labels(byoip).get('global-accelerator')).toBe('AWS Global Accelerator\\n(stack anycdn-global)');
    expect(edgesOf(byoip).filter((x) => x.startsWith('global-accelerator -> anycast'))).toEqual(['global-accelerator -> anycast [announces (BYOIP)\\n192.0.2.0/24\\n203.0.113.0/24]']);
  });

  it('sends misses through the shield, with the origin as the fallback, and the shield straight to the origin', () => {
    expect(l.get('origin')).toBe('origin: S3 anycdn-example-images\\n(eu-west-1)\\nhttps :443');
    const e = edgesOf(g);
    expect(e.filter((x) => x.startsWith('host:nyc-cache1 ->') || x.startsWith('host:ams-cache1 ->'))).toEqual([
      'host:ams-cache1 -> origin [misses]',
      'host:nyc-cache1 -> vip:ams [misses]',
      'host:nyc-cache1 -> origin [if the shield fails]',
    ]);
  });

  it('draws the lab only when asked: a router per site that plays its upstreams, and a client behind each', () => {
    expect([...l.keys()].filter((k) => k.startsWith('lab-'))).toEqual([]);
    const withLab = topologyGraph(t, planLab(t));
    const lab = withLab.subgraphs.find((s) => s.name === 'cluster_lab')!;
    expect(lab.nodes.map((n) => n.name)).toEqual(['lab-core', 'lab-router:ams', 'lab-router:nyc', 'lab-router:sin', 'lab-client:ams', 'lab-client:nyc', 'lab-client:sin']);
    expect(edgesOf(withLab).filter((x) => x.startsWith('lab-router:') && x.includes('['))).toEqual([
      'lab-router:ams -> upstream:ams:64501 [plays]',
      'lab-router:nyc -> upstream:nyc:64502 [plays]',
      'lab-router:sin -> vip:sin [unicast only]',
    ]);
  });
});

describe('the SVG', () => {
  it('is drawn by Graphviz with every host, and is the same bytes on a second draw', async () => {
    const svg = await graphSvg(topologyGraph(t));
    expect(svg.startsWith('<?xml')).toBe(true);
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!.replace(/&#45;/g, '-'));
    for (const h of t.sites.flatMap((s) => s.hosts)) expect(titles, h.name).toContain(`host:${h.name}`);
    expect(await graphSvg(topologyGraph(t))).toBe(svg);
  });

  it.each([
    ['the model', undefined],
    ['the model and the lab', planLab(t)],
  ])('no two labels overlap: %s', async (_what, lab) => {
    const svg = await graphSvg(topologyGraph(t, lab));
    const boxes = textBoxes(svg);
    expect(boxes.length).toBeGreaterThan(80);
    expect(overlaps(boxes)).toEqual([]);
    // The check can fail: the same text drawn twice at one place overlaps itself.
    expect(overlaps([boxes[0]!, boxes[0]!])).toHaveLength(1);
  });

  it('docs/topology.svg, the README\'s picture, is current (refresh: npx anycdn graph --out docs/topology.svg)', async () => {
    expect(readFileSync(DOCS_SVG, 'utf8')).toBe(await graphSvg(topologyGraph(t)));
  });

  it('anycdn graph writes the file, and a bad --sites is a located error with exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-graph-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
      expect(await main(['graph', '--sites', SITES_DIR, '--out', join(dir, 'lab.svg'), '--lab'], io)).toBe(0);
      expect(out).toEqual([`drew 3 sites to ${join(dir, 'lab.svg')}`]);
      expect(readFileSync(join(dir, 'lab.svg'), 'utf8')).toContain('<title>lab&#45;router:ams</title>');
      out.length = 0;
      expect(await main(['graph', '--sites', join(dir, 'nope'), '--out', join(dir, 'x.svg')], io)).toBe(1);
      expect(err).toEqual([`${join(dir, 'nope')}:1:1: --sites: no such directory; pass the directory that holds cdn.yaml and the site files`, '1 error']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface TextBox {
  text: string;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * Every text of the SVG as a box: Helvetica is at most about 0.55 em wide per character on
 * average, and a line spans from 0.8 em above its baseline to 0.2 em below.
 */
function textBoxes(svg: string): TextBox[] {
  return [...svg.matchAll(/<text[^>]* text-anchor="(\w+)" x="([-\d.]+)" y="([-\d.]+)"[^>]* font-size="([\d.]+)"[^>]*>([^<]*)<\/text>/g)].map((m) => {
    const [anchor, x, y, size] = [m[1]!, Number(m[2]), Number(m[3]), Number(m[4])];
    const text = m[5]!.replace(/&#?\w+;/g, 'x');
    const w = text.length * size * 0.55;
    const x0 = anchor === 'middle' ? x - w / 2 : anchor === 'end' ? x - w : x;
    return { text, x0, x1: x0 + w, y0: y - size * 0.8, y1: y + size * 0.2 };
  });
}

function overlaps(boxes: TextBox[]): string[] {
  const out: string[] = [];
  boxes.forEach((a, i) => {
    for (const b of boxes.slice(i + 1)) if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) out.push(`${a.text} | ${b.text}`);
  });
  return out;
}
