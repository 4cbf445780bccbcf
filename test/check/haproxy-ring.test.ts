// The ring is a contract, proven against haproxy itself: the rendered caches backend in a real
// haproxy 2.6, in front of tiny servers that answer their own name, 600 URIs through it. Adding or
// removing a cache at each position (first, middle, last; an add whose name sorts first) moves at
// most 2% of the URIs whose cache stays; the backend as rendered before ids (servers numbered by
// position) moves far more, which shows the check can fail. lib/render/haproxy-ring.ts, the model
// the plan computes its shares with, predicts every one of haproxy's choices.
import { describe, expect, it } from 'vitest';
import { buildRing, lookup, uriKey } from '../../lib/render/haproxy-ring.ts';
import { backendRing } from '../../lib/plan/ring.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { HAPROXY, movedBetweenSurvivors, ringBackend, ringTopology, ringUris, routesThroughHaproxy } from '../helpers/haproxy-ring.ts';

const BASE = ['tst-cache1', 'tst-cache2', 'tst-cache3', 'tst-cache4'];
const SCENARIOS: { name: string; caches: string[] }[] = [
  { name: 'remove-first', caches: BASE.filter((c) => c !== 'tst-cache1') },
  { name: 'remove-middle', caches: BASE.filter((c) => c !== 'tst-cache3') },
  { name: 'remove-last', caches: BASE.filter((c) => c !== 'tst-cache4') },
  { name: 'add-first', caches: ['tst-cache0', ...BASE] },
  { name: 'add-middle', caches: ['tst-cache1', 'tst-cache2', 'tst-cache2b', 'tst-cache3', 'tst-cache4'] },
  { name: 'add-last', caches: [...BASE, 'tst-cache5'] },
];
const NAMES = [...new Set([...BASE, ...SCENARIOS.flatMap((s) => s.caches)])].sort();
const PORTS = Object.fromEntries(NAMES.map((n, i) => [n, 20000 + i]));
const URIS = ringUris(600);

/** Every backend: the base and each scenario, as rendered now (ids) and numbered by position. */
function backends(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, caches] of [['base', BASE] as const, ...SCENARIOS.map((s) => [s.name, s.caches] as const)]) {
    const t = ringTopology(caches.map((c) => ({ name: c })));
    out[`${name}-ids`] = ringBackend(t, PORTS);
    out[`${name}-position`] = ringBackend(t, PORTS, { positionNumbered: true });
  }
  return out;
}

/** What lib/render/haproxy-ring.ts says haproxy does with these backend lines. */
function predicted(lines: string[]): Record<string, string> {
  const ring = backendRing(`backend caches\n${lines.join('\n')}\n`)!;
  const built = buildRing(ring.servers);
  return Object.fromEntries(URIS.map((u) => [u, lookup(built, uriKey(u, ring.balance))!]));
}

describe('the cache ring, in a real haproxy', () => {
  it('adding or removing a cache at any position moves at most 2% of the URIs whose cache stays; the model predicts every choice', async (ctx) => {
    const skip = missingBinary(HAPROXY, 'haproxy') ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const lines = backends();
    const routes = await routesThroughHaproxy(lines, PORTS, URIS);

    // The model predicts haproxy's choice for every URI through every backend.
    for (const [name, l] of Object.entries(lines)) expect(routes[name], `model against haproxy, ${name}`).toEqual(predicted(l));

    const rows: string[] = [];
    for (const s of SCENARIOS) {
      const survivors = BASE.filter((c) => s.caches.includes(c));
      const ids = movedBetweenSurvivors(routes['base-ids']!, routes[`${s.name}-ids`]!, survivors);
      const position = movedBetweenSurvivors(routes['base-position']!, routes[`${s.name}-position`]!, survivors);
      rows.push(`${s.name}: with ids ${ids.moved} of ${ids.of} moved between caches that stay; numbered by position ${position.moved} of ${position.of}`);
      expect(ids.moved / ids.of, `${s.name} with ids`).toBeLessThanOrEqual(0.02);
      // Every URI of a removed cache went to one that stays, and an added cache took URIs from others.
      const gone = BASE.filter((c) => !s.caches.includes(c));
      expect(Object.values(routes[`${s.name}-ids`]!).some((c) => gone.includes(c))).toBe(false);
      const fresh = s.caches.filter((c) => !BASE.includes(c));
      for (const f of fresh) expect(Object.values(routes[`${s.name}-ids`]!)).toContain(f);
    }
    console.log(`ring, 4 caches, 600 URIs through haproxy:\n  ${rows.join('\n  ')}`);
    // Numbered by position, removing the first cache or adding one that sorts first renumbers every
    // cache after it: far more than 2% move. (This is what the ids fix, and shows the check can fail.)
    for (const s of ['remove-first', 'add-first']) {
      const survivors = BASE.filter((c) => SCENARIOS.find((x) => x.name === s)!.caches.includes(c));
      const position = movedBetweenSurvivors(routes['base-position']!, routes[`${s}-position`]!, survivors);
      expect(position.moved / position.of, `${s} numbered by position`).toBeGreaterThan(0.1);
    }
  });
});
