// The routing paperwork in a plan: when out/routing/ changes (a new site, a moved prefix, a new
// origin ASN, BYOIP), the ROAs and IRR objects must be filed before anything announces, or the new
// announcement is RPKI-invalid where upstreams validate. So that is the plan's first step.
import { byCodePoint } from '../model/order.ts';
import { unifiedDiff } from './compare.ts';
import type { FileChange, Step } from './types.ts';

export interface RoutingInput {
  /** The baseline's out/routing/ files (undefined: unknown, such as a directory of host configs). */
  before?: { path: string; content: string }[];
  after: { path: string; content: string }[];
  /** The accelerator takes the IPv4 anycast prefixes (anycdn:global-byoip). */
  byoip: boolean;
}

/** The routing files that differ, by path under --out. */
export function routingChanges(r: RoutingInput): FileChange[] {
  if (!r.before) return [];
  const before = new Map(r.before.map((f) => [f.path, f.content]));
  const after = new Map(r.after.map((f) => [f.path, f.content]));
  const out: FileChange[] = [];
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort(byCodePoint)) {
    const b = before.get(path);
    const a = after.get(path);
    if (b === a) continue;
    out.push({ path, status: b === undefined ? 'added' : a === undefined ? 'removed' : 'changed', diff: unifiedDiff(path, b ?? '', a ?? '') });
  }
  return out;
}

/** The step that files them, first of all: nothing on a host, but it gates everything after it. */
export function routingStep(changes: FileChange[], byoip: boolean): Omit<Step, 'n'> | undefined {
  if (changes.length === 0) return undefined;
  return {
    title: 'file these ROAs and IRR objects first: an announcement made before its ROA is RPKI-invalid',
    site: null,
    hosts: [],
    impact: 'file-only',
    classes: ['file-only'],
    drainFirst: false,
    actions: [
      'file out/routing/roas.txt with your RIR (one ROA per line) and out/routing/irr.rpsl with your IRR database',
      'wait until the validators your upstreams use show the new ROAs (routinator/rpki-client output, or your RIR\'s RPKI view) before the next step',
      ...(byoip
        ? ['BYOIP: AWS advertises a range only after the metal sites stop announcing it (AdvertiseByoipCidr), so withdraw the IPv4 anycast prefixes from the metal sites before the accelerator announces them (deploy anycdn-global last)']
        : []),
    ],
  };
}
