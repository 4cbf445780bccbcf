// Plans of edited copies of the pinned example model (or of `base`), built the way the CLI builds
// them: the baseline render, the edited render counting zone serials on from it, and the pure core.
import { buildPlan, treeOf } from '../../lib/plan/compare.ts';
import type { CloudChange, Plan } from '../../lib/plan/types.ts';
import { sha256Hex, zoneContext } from '../../lib/out/manifest.ts';
import { outputPlans, routingFiles } from '../../lib/render/index.ts';
import { load, shipped, type Texts } from '../model/fixtures.ts';

export function planOf(texts: Texts, cloud: CloudChange[] | string = 'not compared in this test', base: Texts = shipped(), byoip = false): Plan {
  const before = treeOf(outputPlans(load(base)));
  const ctx = zoneContext([...before].map(([path, f]) => ({ path, sha256: sha256Hex(f.content), soaSerial: f.soaSerial })));
  const topology = load(texts);
  return buildPlan({ baseline: { kind: 'dir', source: 'the pinned example model', commit: null }, before, after: outputPlans(topology, ctx), topology, cloud, warnings: [], routing: { before: routingFiles(load(base), { byoip }), after: routingFiles(topology, { byoip }), byoip } });
}

/** Every impact class in a plan, as "site/host unit class" lines (and "stack resource class"), sorted and unique. */
export function classLines(p: Plan): string[] {
  const out = new Set<string>();
  for (const s of p.sites)
    for (const h of s.hosts) {
      for (const i of h.impacts) out.add(`${s.site}/${h.host} ${i.class}`);
      for (const d of h.daemons) for (const i of d.impacts) out.add(`${s.site}/${h.host} ${d.unit} ${i.class}`);
    }
  for (const c of p.cloud) for (const i of c.impacts) out.add(`${c.stack} ${i.resource.replace(/[0-9A-F]{8}\b/, '')} ${i.class}`);
  return [...out].sort();
}
