// The paperwork an anycast announcement needs before it is made, from the model: the ROAs (one per
// covering prefix and origin ASN, max length the prefix's own, so no more-specific is valid), as
// a table and as RFC 8416 SLURM JSON for a local validator, and RPSL route:/route6: objects for
// the IRR. Every site originates from the one bgp.originAsn, so each prefix has one origin the
// internet sees (publicOriginAsn: the upstream's when a private originAsn sits behind it). With
// Global Accelerator BYOIP the IPv4 prefixes also name Amazon's ASNs, as AWS requires before it
// provisions the range. `anycdn render` writes them to out/routing/; the lab's routers validate
// against the same list.
import { announcedGroups, announcesBgp, anycastFamilies, publicOriginAsn } from '../model/facts.ts';
import { byCodePoint } from '../model/order.ts';
import type { Topology } from '../model/schema.ts';

/** The directory under --out that holds these files (a site id may not take this name). */
export const ROUTING_DIR = 'routing';
/** The files in it: the ROA table, the same as SLURM, the IRR objects. */
export const ROUTING_FILES = ['roas.txt', 'roas.slurm.json', 'irr.rpsl'] as const;

/**
 * The ASNs a BYOIP range's ROA must authorise for Global Accelerator (and EC2) to provision and
 * advertise it: AWS's ProvisionByoipCidr documentation, "an RPKI ROA to authorize Amazon ASNs
 * 16509 and 14618", with the max length the /24 brought.
 */
export const AMAZON_BYOIP_ASNS = [16509, 14618] as const;

/** What the model alone does not say: whether the accelerator takes the anycast IPv4 prefixes (BYOIP). */
export interface RoutingOptions {
  /** cdk.json's anycdn:global-byoip (Pulumi: anycdn:globalByoip). */
  byoip?: boolean;
}

export interface Roa {
  prefix: string;
  family: 4 | 6;
  maxLength: number;
  asn: number;
  /** The anycast prefix's model name. */
  group: string;
  /** Who originates it with this ASN: the BGP sites, or "global-accelerator". */
  sites: string[];
}

const ACCELERATOR = 'global-accelerator';

/** Every ROA the announcements need: the public origin for each covering prefix a BGP site announces, and Amazon's with BYOIP. */
export function roas(t: Topology, opts: RoutingOptions = {}): Roa[] {
  const byKey = new Map<string, Roa>();
  const add = (f: { prefix: string; family: 4 | 6; group: string }, asn: number, by: string) => {
    const key = `${f.prefix} ${asn}`;
    const roa = byKey.get(key) ?? { prefix: f.prefix, family: f.family, maxLength: Number(f.prefix.split('/')[1]), asn, group: f.group, sites: [] };
    roa.sites.push(by);
    byKey.set(key, roa);
  };
  const origin = publicOriginAsn(t);
  for (const site of t.sites.filter(announcesBgp)) {
    for (const f of announcedGroups(t, site).flatMap((g) => g.families)) add(f, origin, site.id);
  }
  if (opts.byoip) {
    for (const f of anycastFamilies(t).filter((x) => x.family === 4)) for (const asn of AMAZON_BYOIP_ASNS) add(f, asn, ACCELERATOR);
  }
  return [...byKey.values()].sort((a, b) => a.family - b.family || byCodePoint(a.group, b.group) || a.asn - b.asn);
}

/** The ROAs as a plain text table, for the operator filing them with the RIR. */
export function roaTable(list: Roa[]): string {
  const rows = [['prefix', 'maxLength', 'origin', 'anycast', 'originated by'], ...list.map((r) => [r.prefix, String(r.maxLength), `AS${r.asn}`, r.group, r.sites.join(',')])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

/** RFC 8416 SLURM: the ROAs as locally added prefix assertions, nothing filtered. */
export function slurm(list: Roa[]): string {
  const doc = {
    slurmVersion: 1,
    validationOutputFilters: { prefixFilters: [], bgpsecFilters: [] },
    locallyAddedAssertions: {
      prefixAssertions: list.map((r) => ({ asn: r.asn, prefix: r.prefix, maxPrefixLength: r.maxLength, comment: `anycdn anycast ${r.group} from ${r.sites.join(', ')}` })),
      bgpsecAssertions: [],
    },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * RPSL route:/route6: objects for the CDN's own origin, one per prefix; mnt-by and source from
 * bgp.irr. Amazon's BYOIP origins need a ROA only, so they get no route object here.
 */
export function rpsl(t: Topology, list: Roa[]): string {
  const irr = t.cdn.bgp.irr;
  const origin = publicOriginAsn(t);
  const objects = list.filter((r) => r.asn === origin).map((r) => {
    const servers = t.cdn.anycast.prefixes.find((p) => p.name === r.group)?.nameservers ?? [];
    const attrs: [string, string][] = [
      [r.family === 4 ? 'route' : 'route6', r.prefix],
      ['descr', `anycdn anycast prefix ${r.group}${servers.length ? ` (${servers.join(', ')})` : ''}, ${t.cdn.dns.zone}`],
      ['origin', `AS${r.asn}`],
      ['remarks', `announced from ${r.sites.join(', ')}`],
      ...(irr ? [...irr.mntBy.map((m): [string, string] => ['mnt-by', m]), ['source', irr.source] as [string, string]] : []),
    ];
    return attrs.map(([k, v]) => `${`${k}:`.padEnd(16)}${v}`).join('\n');
  });
  const head = irr
    ? [`# RPSL route objects for the anycast prefixes, origin AS${origin}, for ${irr.source}.`]
    : [
        `# RPSL route objects for the anycast prefixes, origin AS${origin}. Set bgp.irr {mntBy, source} in`,
        '# cdn.yaml (or add mnt-by: and source: to each) before submitting.',
      ];
  return `${[head.join('\n'), ...objects].join('\n\n')}\n`;
}

/** The files under out/routing/, by path relative to --out. */
export function routingFiles(t: Topology, opts: RoutingOptions = {}): { path: string; content: string }[] {
  const list = roas(t, opts);
  const content = { 'roas.txt': roaTable(list), 'roas.slurm.json': slurm(list), 'irr.rpsl': rpsl(t, list) } satisfies Record<(typeof ROUTING_FILES)[number], string>;
  return ROUTING_FILES.map((name) => ({ path: `${ROUTING_DIR}/${name}`, content: content[name] }));
}
