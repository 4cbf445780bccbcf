// What the nginx and Squid renderers share about caching: the statuses they keep, in one order.
// Where misses go (origin and shield) is a topology fact: lib/model/facts.ts.
import type { Topology } from '../model/schema.ts';

/** Statuses in model order for proxy_cache_valid / refresh rules: numeric first, then any. */
export function validEntries(t: Topology): [status: string, sec: number][] {
  return Object.entries(t.cdn.cache.validSec).sort(([a], [b]) => (a === 'any' ? 1 : b === 'any' ? -1 : Number(a) - Number(b)));
}
