// Origins in priority order (issue 17), for real: the shipped sites with two S3 origins, the
// bucket in eu-west-1 and its replica in eu-central-1, and no shield, so the caches of ams (nginx)
// and nyc (Squid) each reach the origins themselves. The lab runs each origin in a namespace of
// its own, both over TLS with their own names and certificates (lib/lab/origin.ts).
//
// Under a steady load of misses (every request a distinct URL of a real image, at both sites,
// together >= 100 requests per second), the primary origin is killed. Every request must still
// succeed, and every miss after the kill must be served by the replica (the origins' own logs
// say who served which URL). The added latency of a miss is reported: p50/p99 before the kill
// and with the primary dead.
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed (by PID and
// namespace, lib/lab/down.ts) before and after, even when a test fails.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originTargets } from '../../lib/model/facts.ts';
import { startOriginAgain, stopOrigin } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { sleep } from '../../lib/lab/exec.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { LAB_IMAGE_COUNT, MISS_PREFIX, originFetchLog } from '../../lib/lab/origin.ts';
import { labOrigin, nsOf } from '../../lib/lab/plan.ts';
import { run } from '../../lib/run.ts';
import { missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';
import { labUpEdited } from './bring-up.ts';
import { Figures } from './figures.ts';
import type { LoadResult } from './loadgen.ts';
import { startLoad } from './watch.ts';

const skip = missingRoot() ?? missingLabDaemon();

const PRIMARY = { bucket: 'anycdn-example-images', region: 'eu-west-1' };
const REPLICA = { bucket: 'anycdn-example-images-replica', region: 'eu-central-1' };
/** The shipped model with the bucket and its replica as origins, and no shield (so no derived images). */
const edit = (x: Record<string, string>) => {
  const cdn = x['sites/cdn.yaml']!;
  const edited = cdn
    .replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, `origin:\n  - s3: { bucket: ${PRIMARY.bucket}, region: ${PRIMARY.region} }\n  - s3: { bucket: ${REPLICA.bucket}, region: ${REPLICA.region} }\n`)
    .replace(/\nshield: ams\n/, '\n')
    // Without a shield every site makes its own derived images, which Squid-only nyc cannot.
    .replace(/\nimages:\n  transforms:\n(    .*\n)+/, '\n');
  if (!edited.includes(REPLICA.bucket) || edited.includes('\nshield:') || edited.includes('\nimages:')) throw new Error('the edit of sites/cdn.yaml did not apply: the shipped origin, shield or images changed shape');
  x['sites/cdn.yaml'] = edited;
};
const t = loadEdited(edit);
const IMG = t.cdn.imageHost;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
/** [site, engine of its caches]: both go straight to the origins. */
const SITES = [
  ['ams', 'nginx'],
  ['nyc', 'squid'],
] as const;
const RATE_PER_SITE = 60;
const PHASE_SEC = 6;
const WARM_SEC = 4;
const KILL_SEC = 10;
const KILL_AFTER_MS = 3000;
const images = imageSet(LAB_IMAGE_COUNT);
const figures = new Figures('origins');

/** Distinct URLs, each a real image behind MISS_PREFIX: nobody asked for any of them before. */
function missPaths(phase: number, siteIndex: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${MISS_PREFIX}${phase * 1_000_000 + siteIndex * 100_000 + i}/${images[i % images.length]!.name}`);
}

/** Each origin's log: URL -> [epoch ms, status] of every request it answered. */
function fetches(index: number): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  const f = originFetchLog(index);
  if (!existsSync(f)) return out;
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const [msec, uri, status] = line.split(' ');
    if (!uri) continue;
    out.set(uri, [...(out.get(uri) ?? []), [Math.round(Number(msec) * 1000), Number(status)]]);
  }
  return out;
}

/** One load per site, together; the paths of each. */
async function loads(phase: number, durationSec: number, during?: () => Promise<void>): Promise<{ results: LoadResult[]; paths: string[][] }> {
  const paths = SITES.map((_, i) => missPaths(phase, i, RATE_PER_SITE * durationSec));
  const running = SITES.map(([id], i) =>
    startLoad(nsOf.client(id), { target: site(id).vip.address, host: IMG, paths: paths[i]!, ratePerSec: RATE_PER_SITE, durationSec, timeoutMs: 8000 }),
  );
  if (during) await during();
  return { results: await Promise.all(running), paths };
}

const failures = (r: LoadResult) => ({ failed: r.failed, byStatus: r.byStatus, errors: r.errors });

let sitesDir = '';

describe.skipIf(skip)('lab: origins in priority order', () => {
  beforeAll(async () => {
    sitesDir = await labUpEdited(t, 'origins', edit);
  }, 120_000);

  afterAll(async () => {
    try {
      await labDown();
      figures.write();
      console.log(`\norigins figures (also in test/.figures/origins.json):\n${figures.table()}\n`);
    } finally {
      if (sitesDir) rmSync(sitesDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs each origin in a namespace of its own, at the model\'s names, over TLS', async () => {
    expect(originTargets(t).map((o) => [o.host, o.port, o.tls])).toEqual([
      [`${PRIMARY.bucket}.s3.${PRIMARY.region}.amazonaws.com`, 443, true],
      [`${REPLICA.bucket}.s3.${REPLICA.region}.amazonaws.com`, 443, true],
    ]);
    // Each lab origin answers at its own address (the caches verify the names; here only the port).
    for (const i of [0, 1]) {
      const r = await run('ip', ['netns', 'exec', nsOf.client('ams'), 'curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `https://${labOrigin(i).v4}/${images[0]!.name}`], { timeoutMs: 4000 });
      expect(r.stdout.trim(), `lab origin ${i + 1}`).toBe('200');
    }
  });

  it('the primary dies under >= 100 misses/s: no request sent after the kill fails (a response streaming from it is reset), every later miss served by the replica', async () => {
    let killed = false;
    let killedAt = 0;
    try {
      // A warm-up at the same rate first (helpers started, TLS sessions to the origins pooled), so
      // the reference below measures steady misses, not the lab's first seconds.
      const warm = await loads(0, WARM_SEC);
      for (const [i, r] of warm.results.entries()) expect(failures(r), `${SITES[i]![0]} warming up`).toEqual({ failed: 0, byStatus: { '200': r.sent }, errors: {} });
      const before = await loads(1, PHASE_SEC);
      for (const [i, r] of before.results.entries()) expect(failures(r), `${SITES[i]![0]} before the kill`).toEqual({ failed: 0, byStatus: { '200': r.sent }, errors: {} });
      const rate = before.results.reduce((a, r) => a + r.achievedRatePerSec, 0);
      expect(rate, 'misses per second, both sites').toBeGreaterThanOrEqual(100);
      // Before the kill every miss came from the primary.
      const primary0 = fetches(0);
      expect(before.paths.flat().filter((p) => !primary0.has(p)), 'misses the primary did not serve before the kill').toEqual([]);

      const kill = await loads(2, KILL_SEC, async () => {
        await sleep(KILL_AFTER_MS);
        killed = true;
        await stopOrigin(0);
        killedAt = Date.now(); // its processes are gone: nothing it logs can be later than this
      });
      // A miss whose response was streaming from the primary when it died cannot be answered
      // again (the cache has sent its status line; neither nginx nor Squid can switch origins
      // mid-body): such a request, sent before the kill, fails with a reset mid-response and is
      // reported. Every request sent after the kill must succeed.
      const inFlight = kill.results.map((r) => r.failureStarts.filter((t0) => t0 < killedAt).length);
      for (const [i, r] of kill.results.entries()) {
        const early = inFlight[i]!;
        const midResponse = Object.keys(r.errors).every((e) => e === 'ECONNRESET mid-response') && Object.keys(r.byStatus).every((c) => c === '200');
        expect({ failedAfterKill: r.failed - early, answered: r.byStatus['200'] ?? 0, onlyResetsMidResponse: midResponse }, `${SITES[i]![0]} while the primary died: ${JSON.stringify(failures(r))}`).toEqual({ failedAfterKill: 0, answered: r.sent - early, onlyResetsMidResponse: true });
      }

      const after = await loads(3, PHASE_SEC);
      for (const [i, r] of after.results.entries()) expect(failures(r), `${SITES[i]![0]} with the primary dead`).toEqual({ failed: 0, byStatus: { '200': r.sent }, errors: {} });

      // Who served what: every miss of the kill phase by one origin or the other, nothing by the
      // primary after its death, and every miss with the primary dead by the replica.
      const primary = fetches(0);
      const replica = fetches(1);
      const servedOk = (m: Map<string, [number, number][]>, p: string) => (m.get(p) ?? []).some(([, s]) => s === 200);
      expect(kill.paths.flat().filter((p) => !servedOk(primary, p) && !servedOk(replica, p)), 'misses no origin served').toEqual([]);
      const lateAtPrimary = [...primary].filter(([, hits]) => hits.some(([ms]) => ms > killedAt)).map(([p]) => p);
      expect(lateAtPrimary, 'requests the primary answered after it was killed').toEqual([]);
      expect(after.paths.flat().filter((p) => !servedOk(replica, p)), 'misses with the primary dead that the replica did not serve').toEqual([]);
      const movedInKill = kill.paths.flat().filter((p) => servedOk(replica, p)).length;

      for (const [i, [id, engine]] of SITES.entries()) {
        const b = before.results[i]!;
        const a = after.results[i]!;
        figures.record('origins', `${id} (${engine}) miss p50, primary up`, 'ms', 'reference', [b.p50Ms]);
        figures.record('origins', `${id} (${engine}) miss p50, primary dead`, 'ms', 'reference + a refused connect', [a.p50Ms], `added ${a.p50Ms - b.p50Ms} ms`);
        figures.record('origins', `${id} (${engine}) miss p99, primary up`, 'ms', 'reference', [b.p99Ms]);
        figures.record('origins', `${id} (${engine}) miss p99, primary dead`, 'ms', 'reference + a refused connect', [a.p99Ms], `added ${a.p99Ms - b.p99Ms} ms`);
        figures.record('origins', `${id} (${engine}) failed requests, all phases, but those in flight at the kill`, 'requests', '0', [before.results[i]!.failed + kill.results[i]!.failed - inFlight[i]! + a.failed], `of ${b.sent + kill.results[i]!.sent + a.sent}`);
        figures.record('origins', `${id} (${engine}) responses streaming from the primary at the kill, reset`, 'requests', 'reported (exempt)', [inFlight[i]!]);
      }
      figures.record('origins', 'misses per second, both sites', 'requests', '>= 100', [rate]);
      figures.record('origins', 'misses of the kill phase served by the replica', 'requests', '> 0', [movedInKill], `of ${kill.paths.flat().length}`);
      expect(movedInKill, 'the replica served none of the kill phase').toBeGreaterThan(0);
    } finally {
      if (killed) await startOriginAgain(0);
    }
  }, 120_000);
});
