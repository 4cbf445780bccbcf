// The paperwork an anycast announcement needs before it is made, from the model: the ROAs (one per
// covering prefix and origin ASN, max length the prefix's own, so no more-specific is valid), as
// a table and as RFC 8416 SLURM JSON for a local validator, and RPSL route:/route6: objects for
// the IRR. `anycdn render` writes them to out/routing/; the lab's routers validate against the
// same list.
import { announcedGroups, announcesBgp } from '../model/facts.ts';
import { byCodePoint } from '../model/order.ts';
import type { Topology } from '../model/schema.ts';

/** The directory under --out that holds these files (a site id may not take this name). */
export const ROUTING_DIR = 'routing';
/** The files in it: the ROA table, the same as SLURM, the IRR objects. */
export const ROUTING_FILES = ['roas.txt', 'roas.slurm.json', 'irr.rpsl'] as const;

export interface Roa {
  prefix: string;
  family: 4 | 6;
  maxLength: number;
  asn: number;
  /** The anycast prefix's model name. */
  group: string;
  /** The sites that originate it with this ASN. */
  sites: string[];
}

/** Every ROA the announcements need: each BGP site's ASN for each covering prefix it announces. */
export function roas(t: Topology): Roa[] {
  const byKey = new Map<string, Roa>();
  for (const site of t.sites.filter(announcesBgp)) {
    for (const f of announcedGroups(t, site).flatMap((g) => g.families)) {
      const key = `${f.prefix} ${site.asn}`;
      const roa = byKey.get(key) ?? { prefix: f.prefix, family: f.family, maxLength: Number(f.prefix.split('/')[1]), asn: site.asn, group: f.group, sites: [] };
      roa.sites.push(site.id);
      byKey.set(key, roa);
    }
  }
  return [...byKey.values()].sort((a, b) => a.family - b.family || byCodePoint(a.group, b.group) || a.asn - b.asn);
}

/** The ROAs as a plain text table, for the operator filing them with the RIR. */
export function roaTable(list: Roa[]): string {
  const rows = [['prefix', 'maxLength', 'origin', 'anycast', 'sites'], ...list.map((r) => [r.prefix, String(r.maxLength), `AS${r.asn}`, r.group, r.sites.join(',')])];
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

/** RPSL route:/route6: objects, one per prefix and origin; mnt-by and source are the operator's. */
export function rpsl(t: Topology, list: Roa[]): string {
  const objects = list.map((r) => {
    const servers = t.cdn.anycast.prefixes.find((p) => p.name === r.group)?.nameservers ?? [];
    const attrs: [string, string][] = [
      [r.family === 4 ? 'route' : 'route6', r.prefix],
      ['descr', `anycdn anycast prefix ${r.group}${servers.length ? ` (${servers.join(', ')})` : ''}, ${t.cdn.dns.zone}`],
      ['origin', `AS${r.asn}`],
      ['remarks', `announced from ${r.sites.join(', ')}`],
    ];
    return attrs.map(([k, v]) => `${`${k}:`.padEnd(16)}${v}`).join('\n');
  });
  const head = [
    '# RPSL route objects for the anycast prefixes, one per origin ASN. Add mnt-by: (your maintainer)',
    '# and source: (your IRR, such as RADB or RIPE) to each before submitting.',
  ];
  return `${[head.join('\n'), ...objects].join('\n\n')}\n`;
}

/** The files under out/routing/, by path relative to --out. */
export function routingFiles(t: Topology): { path: string; content: string }[] {
  const list = roas(t);
  const content = { 'roas.txt': roaTable(list), 'roas.slurm.json': slurm(list), 'irr.rpsl': rpsl(t, list) } satisfies Record<(typeof ROUTING_FILES)[number], string>;
  return ROUTING_FILES.map((name) => ({ path: `${ROUTING_DIR}/${name}`, content: content[name] }));
}
