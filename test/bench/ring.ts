// The ring group: how many images change cache when one cache of four is removed (each in turn)
// or one is added (first, middle, last by name), measured through a real haproxy with the
// rendered backend (test/helpers/haproxy-ring.ts), against the same backend numbered by position
// as haproxy numbers servers without an id (and anycdn rendered them before ids).
import { HAPROXY, movedBetweenSurvivors, ringBackend, ringTopology, ringUris, routesThroughHaproxy } from '../helpers/haproxy-ring.ts';
import { stats, type Results } from './results.ts';

const BASE = ['tst-cache1', 'tst-cache2', 'tst-cache3', 'tst-cache4'];
const REMOVALS = BASE.map((c) => ({ name: `remove-${c}`, caches: BASE.filter((x) => x !== c) }));
const ADDS = [
  { name: 'add-first', caches: ['tst-cache0', ...BASE] },
  { name: 'add-middle', caches: ['tst-cache1', 'tst-cache2', 'tst-cache2b', 'tst-cache3', 'tst-cache4'] },
  { name: 'add-last', caches: [...BASE, 'tst-cache5'] },
];

export async function ringBench(res: Results): Promise<void> {
  const scenarios = [...REMOVALS, ...ADDS];
  const names = [...new Set([...BASE, ...scenarios.flatMap((s) => s.caches)])].sort();
  const ports = Object.fromEntries(names.map((n, i) => [n, 20000 + i]));
  const backends: Record<string, string[]> = {};
  for (const [name, caches] of [['base', BASE] as const, ...scenarios.map((s) => [s.name, s.caches] as const)]) {
    const t = ringTopology(caches.map((c) => ({ name: c })));
    backends[`${name}-ids`] = ringBackend(t, ports);
    backends[`${name}-position`] = ringBackend(t, ports, { positionNumbered: true });
  }
  const uris = ringUris(600);
  const routes = await routesThroughHaproxy(backends, ports, uris);
  const moved = (list: typeof scenarios, kind: 'ids' | 'position') =>
    list.map((s) => {
      const m = movedBetweenSurvivors(routes[`base-${kind}`]!, routes[`${s.name}-${kind}`]!, BASE.filter((c) => s.caches.includes(c)));
      return (100 * m.moved) / m.of;
    });
  for (const [list, what] of [
    [REMOVALS, 'one of 4 caches removed (each in turn)'],
    [ADDS, 'a 5th cache added (first, middle, last by name)'],
  ] as const) {
    const ours = stats(moved(list, 'ids'));
    const base = stats(moved(list, 'position'));
    res.add({
      section: 'ring',
      what: `images moved between caches that stay, ${what}: 600 URIs through ${HAPROXY}`,
      unit: ' %',
      anycdn: ours,
      baseline: { ...base, what: 'the same backend numbered by position (no server ids)' },
      ratio: ours.median / Math.max(base.median, Number.EPSILON),
      target: '<= 2 %',
      met: ours.max <= 2,
    });
  }
}
