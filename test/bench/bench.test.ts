// The bench's pure parts: the Zipf stream, wrk's report, the probe's DNS parsing, the baseline
// model and the count of spilled requests. No timing is asserted here; the bench itself is `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../lib/model/load.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { homeCounts, spillsOf } from './balance.ts';
import { BASELINE, writeBaselineSites } from './baseline-sites.ts';
import { firstA } from './client-probe.ts';
import { stats } from './results.ts';
import { writeSites } from './topology.ts';
import { childSeconds, childTimes, parseWrk } from './throughput.ts';
import { zipfStream } from './zipf.ts';

describe('zipfStream', () => {
  it('is deterministic per seed and skewed: the most popular image is asked for about 1/H_n of the time', () => {
    const o = { images: 1000, s: 1, requests: 20_000, seed: 3 };
    const a = zipfStream(o);
    expect(zipfStream(o)).toEqual(a);
    expect(zipfStream({ ...o, seed: 4 })).not.toEqual(a);
    const counts = new Map<number, number>();
    for (const id of a) counts.set(id, (counts.get(id) ?? 0) + 1);
    const top = Math.max(...counts.values());
    const h = Array.from({ length: 1000 }, (_, k) => 1 / (k + 1)).reduce((x, y) => x + y, 0);
    expect(top / o.requests).toBeGreaterThan(0.8 / h);
    expect(top / o.requests).toBeLessThan(1.2 / h);
    expect(a.every((id) => id >= 0 && id < 1000)).toBe(true);
  });
});

describe('parseWrk', () => {
  const report = [
    'Running 1s test @ http://198.51.100.10/healthz',
    '  1 threads and 2 connections',
    '  Latency Distribution',
    '     50%   92.00us',
    '     75%    2.03ms',
    '     99%   1.50s',
    '  5642 requests in 1.01s, 809.94KB read',
    '  Socket errors: connect 0, read 2, write 0, timeout 1',
    '  Non-2xx or 3xx responses: 4',
    'Requests/sec:   5606.05',
  ].join('\n');

  it('reads req/s, p50 and p99 in ms, and counts socket errors and non-2xx answers', () => {
    expect(parseWrk(report)).toEqual({ rps: 5606, p50Ms: 0.092, p99Ms: 1500, errors: 7 });
  });

  it('refuses a report without the latency distribution', () => {
    expect(() => parseWrk('Requests/sec: 10\n')).toThrow(/no 50% line/);
  });

  it("reads wrk's CPU from the shell's `times` after it (children's user + system), after the report", () => {
    expect(childSeconds(`${report}\n0m0.010000s 0m0.020000s\n0m1.500000s 1m0.250000s\n`)).toBeCloseTo(61.75, 6);
    expect(childSeconds(report)).toBeNaN();
    expect(childTimes(`${report}\n0m0.010000s 0m0.020000s\n0m1.500000s 1m0.250000s\n`)).toEqual({ user: 1.5, sys: 60.25 });
  });
});

describe('firstA', () => {
  const q = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, ...Buffer.from('img'), 2, ...Buffer.from('cd'), 0, 0, 1, 0, 1]);
  it('returns the first A record after a compressed name', () => {
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 10]);
    expect(firstA(Buffer.concat([q, answer]))).toBe('198.51.100.10');
  });
  it('names the rcode of a failed answer', () => {
    const servfail = Buffer.from(q);
    servfail[3] = 0x82;
    expect(firstA(servfail)).toEqual(new Error('rcode 2'));
  });
});

describe('the baseline model', () => {
  it('is the shipped model with the default timers, no BFD and no shield, and loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-baseline-'));
    try {
      const t = loadTopology(writeBaselineSites(SITES_DIR, dir));
      const shipped = loadTopology(SITES_DIR);
      expect(t.cdn.shield).toBeUndefined();
      expect(t.cdn.healthcheck).toMatchObject(BASELINE.healthcheck);
      for (const s of t.sites) {
        expect(s.vip.advertIntervalMs).toBe(1000);
        expect(s.bgp.peers.map((p) => p.bfd)).toEqual(s.bgp.peers.map(() => false));
        if (s.bgp.peers.length) expect([s.bgp.holdTimeSec, s.bgp.keepaliveTimeSec]).toEqual([90, 30]);
      }
      expect(t.sites.map((s) => s.hosts)).toEqual(shipped.sites.map((s) => s.hosts));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stats', () => {
  it('takes the lower median of an even count', () => {
    expect(stats([4, 1, 3, 2])).toEqual({ n: 4, trials: [4, 1, 3, 2], min: 1, median: 2, max: 4 });
  });
});

describe('spillsOf', () => {
  it("counts requests off their image's main cache and images answered by more than one, skipping failures", () => {
    const ids = [1, 1, 1, 2, 2, 3, 3, 3, 3];
    const servedBy = ['a', 'b', 'a', 'b', 'b', 'a', '', 'b', 'b'];
    // image 1: a twice, b once (1 off); image 2: b only; image 3: b twice, a once, one failed (1 off).
    expect(spillsOf(ids, servedBy)).toEqual({ requests: 2, images: 2 });
    expect(spillsOf(ids, ids.map((id) => (id === 2 ? 'a' : 'b')))).toEqual({ requests: 0, images: 0 });
  });

  it("counts every answered request on its image's main cache (where the ring put it)", () => {
    expect(homeCounts([1, 1, 1, 2, 2, 3, 3, 3, 3], ['a', 'b', 'a', 'b', 'b', 'a', '', 'b', 'b'])).toEqual(new Map([['a', 3], ['b', 5]]));
  });
});

describe('generated topologies (topology.ts)', () => {
  it('load as a valid model: 5 sites with no shield and so no derived images', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-bench-gen-'));
    try {
      const t = loadTopology(writeSites(join(dir, 'sites'), 5));
      expect(t.sites).toHaveLength(5);
      expect([t.cdn.shield, t.cdn.images?.transforms]).toEqual([undefined, undefined]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
