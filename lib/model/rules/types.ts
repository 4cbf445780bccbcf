import type { Diagnostic } from '../errors.ts';
import type { Topology } from '../schema.ts';

/** A cross-field rule: looks at the whole validated model and reports what is wrong. */
export type Rule = (t: Topology, report: Report) => void;

/** Report a problem at a model path in a site file (siteId) or in the global file (null). */
export type Report = (siteId: string | null, path: (string | number)[], message: string) => void;

export function collect(t: Topology, rules: Rule[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report: Report = (siteId, path, message) => out.push({ ...t.sources.position(siteId, path), message });
  for (const rule of rules) rule(t, report);
  return out;
}
