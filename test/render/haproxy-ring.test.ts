// The ring model without haproxy: its arcs agree with its own lookup everywhere it matters (at every
// boundary and across the wrap), shares add up, stable ids move only the share of the cache that
// comes or goes, and the ids stay inside what haproxy places exactly. test/check/haproxy-ring.test.ts
// holds the same model to a real haproxy.
import { describe, expect, it } from 'vitest';
import { derivedRingId, MAX_RING_ID } from '../../lib/model/ring-id.ts';
import { backendRing, ringChangeOf } from '../../lib/plan/ring.ts';
import { arcs, buildRing, lookup, POINTS_PER_WEIGHT, ringChange, shares, type RingServer } from '../../lib/render/haproxy-ring.ts';

const named = (names: string[], positions = false): RingServer[] => names.map((name, i) => ({ name, id: positions ? i + 1 : derivedRingId(name), weight: 1 }));
const FOUR = ['c1', 'c2', 'c3', 'c4'];

describe('the ring model', () => {
  it('its arcs say what its lookup says, at every arc boundary and on both sides of it, wrap included', () => {
    for (const servers of [named(FOUR), named(FOUR, true), [{ name: 'a', id: 3, weight: 2 }, { name: 'b', id: 9, weight: 1 }]]) {
      const ring = buildRing(servers);
      expect(ring.keys.length).toBe(servers.reduce((n, s) => n + s.weight * POINTS_PER_WEIGHT, 0));
      const a = arcs(ring);
      expect(a[0]!.start).toBe(0);
      for (let i = 0; i < a.length; i++) {
        const end = (a[i + 1]?.start ?? 2 ** 32) - 1;
        for (const k of [a[i]!.start, end]) expect(lookup(ring, k), `key ${k}`).toBe(a[i]!.owner);
      }
      for (const k of ring.keys) expect(lookup(ring, k)).toBe(ring.owners[ring.keys.indexOf(k)]);
      const total = [...shares(ring).values()].reduce((x, y) => x + y, 0);
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('one server owns everything; an empty ring nothing', () => {
    const one = buildRing([{ name: 'only', id: 5, weight: 1 }]);
    expect([lookup(one, 0), lookup(one, 2 ** 32 - 1)]).toEqual(['only', 'only']);
    expect(shares(one)).toEqual(new Map([['only', 1]]));
    expect(lookup(buildRing([{ name: 'drained', id: 5, weight: 0 }]), 7)).toBeUndefined();
  });

  it('with stable ids a removed or added cache moves only its own share; numbered by position, the others move too', () => {
    const base = buildRing(named(FOUR));
    const removed = ringChange(base, buildRing(named(FOUR.slice(1))));
    expect(removed.between).toBe(0);
    expect(removed.left.get('c1')).toBeCloseTo(shares(base).get('c1')!, 12);
    const added = ringChange(base, buildRing(named(['c0', ...FOUR])));
    expect(added.between).toBe(0);
    expect(added.joined.get('c0')).toBeCloseTo(shares(buildRing(named(['c0', ...FOUR]))).get('c0')!, 12);
    const renumbered = ringChange(buildRing(named(FOUR, true)), buildRing(named(FOUR.slice(1), true)));
    expect(renumbered.between).toBeGreaterThan(0.1);
  });

  it('derived ids are stable, in 1..MAX_RING_ID, and every point input of every id fits a C int', () => {
    expect(derivedRingId('ams-cache1')).toBe(derivedRingId('ams-cache1'));
    for (const n of ['a', 'ams-cache1', 'x'.repeat(63)]) expect(derivedRingId(n)).toBeGreaterThanOrEqual(1);
    expect(MAX_RING_ID * 256 * POINTS_PER_WEIGHT + 256 * POINTS_PER_WEIGHT - 1).toBe(2 ** 31 - 1);
  });
});

describe('reading the ring from a haproxy.cfg', () => {
  const cfg = (servers: string) => `backend caches\n\tbalance uri path-only\n\thash-type consistent\n${servers}\nbackend other\n\tserver z 192.0.2.9:80 id 1\n`;

  it('numbers servers without an id as haproxy does: the lowest id no other server takes, in order', () => {
    expect(backendRing(cfg('\tserver a 192.0.2.1:80\n\tserver b 192.0.2.2:80 id 1\n\tserver c 192.0.2.3:80 weight 0\n\tserver d 192.0.2.4:80 backup'))).toEqual({
      balance: { whole: false, pathOnly: true },
      servers: [
        { name: 'a', id: 2, weight: 1 },
        { name: 'b', id: 1, weight: 1 },
        { name: 'c', id: 3, weight: 0 },
      ],
    });
    expect(backendRing('backend caches\n\tbalance roundrobin\n\tserver a 192.0.2.1:80\n')).toBeUndefined();
  });

  it('names the share that changes cache, and the caches that moved', () => {
    const before = cfg('\tserver a 192.0.2.1:80\n\tserver b 192.0.2.2:80\n\tserver c 192.0.2.3:80');
    const after = cfg('\tserver b 192.0.2.2:80\n\tserver c 192.0.2.3:80');
    const r = ringChangeOf(before, after)!;
    expect(r.change.left.has('a')).toBe(true);
    expect(r.change.between).toBeGreaterThan(0);
    const withIds = (s: string) => s.replace(/(server (\w) \S+)/g, (_m, all: string, n: string) => `${all} id ${derivedRingId(n)}`);
    expect(ringChangeOf(withIds(before), withIds(after))!.change.between).toBe(0);
  });
});
