// The lab half of `npm run bench` (root only): two labs, one after the other, since a lab holds
// one model at a time.
//   1. The shipped sites: hit ratio through ams, rendered `balance uri` against round robin,
//      interleaved trial by trial on the same stream; the rendered hash-balance-factor against
//      none (balance.ts); the shield over all three sites; wrk through the VIP against the cache
//      directly, interleaved; the failover scenarios, side by side as in 2. The health checkers' CPU and memory are
//      read over the first 60 s after ready, while the edge, balance and shield replays run (no
//      failure is made then: every checker is in steady state), so the 60 s cost no time of
//      their own.
//   2. The baseline model (baseline-sites.ts): the same shield replay without a shield, and the
//      same failover scenarios with the common default timers. The scenarios touch disjoint
//      sites (VRRP at sin, knot and the image path at ams, the frozen bird at nyc), so they run
//      side by side: the frozen-peer trial waits out a 90 s hold timer in the background, VRRP at
//      sin runs beside the anycast trials at ams.
// Each lab is torn down in `finally`, also when a figure fails.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { labDown } from '../../lib/lab/down.ts';
import { planLab } from '../../lib/lab/plan.ts';
import { LAB_DIR } from '../../lib/lab/state.ts';
import { waitReady } from '../../lib/lab/status.ts';
import { labUp } from '../../lib/lab/up.ts';
import { loadTopology } from '../../lib/model/load.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { balanceRows, balanceTrials, type BalanceTrial } from './balance.ts';
import { BASELINE, writeBaselineSites } from './baseline-sites.ts';
import { emptyFailover, failoverBench, type Failover } from './failover.ts';
import { edgeTrial, prepareTrial, setBalance, shieldTrial, BENCH_IMAGES, ZIPF_S, type EdgeTrial, type ShieldTrial } from './hit-ratio.ts';
import { checkerUsage } from './measure.ts';
import { stats, type Results } from './results.ts';
import { throughput, type Throughput } from './throughput.ts';

const EDGE_TRIALS = 2;
const EDGE_REQUESTS = 10_000;
const SHIELD_REQUESTS_PER_SITE = 4000;
/** The health checkers' CPU is read over this window, from the shipped lab's ready (issue 8: 60 s). */
const CHECKER_USAGE_MS = 60_000;
/** 32 requests in flight: the bound engages on ams's two caches (some 3-4 % of requests spill). */
const BALANCE = { requests: 2000, concurrency: 32 };
/** wrk runs, each way, interleaved: the same connections and thread both ways. */
const TP = { trials: 3, seconds: 5, connections: 16 };

async function withLab<T>(t: Topology, sites: string, body: () => Promise<T>): Promise<{ upMs: number; value: T }> {
  const t0 = Date.now();
  try {
    await labUp(t, sites);
    const ready = await waitReady(t, planLab(t), 60_000);
    if (!ready.ready) throw new Error(`bench: the lab did not become ready: ${ready.reasons.join('; ')}`);
    const upMs = Date.now() - t0;
    return { upMs, value: await body() };
  } finally {
    await labDown();
  }
}

/**
 * Takes an advisory lock on `file` for a machine whose lab other people share: flock(1) holds it
 * for a child that waits on its stdin, so it ends (and the lock goes) when we release it or die.
 */
export async function labLock(file: string): Promise<() => void> {
  const child = spawn('flock', [file, 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`bench: flock ${file} exited ${code}`)));
  });
  return () => child.stdin.end();
}

export async function labBench(res: Results, root: string, scratch: string): Promise<void> {
  if (existsSync(LAB_DIR)) throw new Error('bench: a lab is up; run `npx anycdn lab down` first (or wait for whoever holds it)');
  const shippedDir = join(root, 'sites');
  const shipped = loadTopology(shippedDir);
  const baselineDir = writeBaselineSites(shippedDir, join(scratch, 'baseline-sites'));
  const baseline = loadTopology(baselineDir);
  const ams = shipped.sites.find((s) => s.id === 'ams')!;

  const ch: EdgeTrial[] = [];
  const rr: EdgeTrial[] = [];
  const got: { shielded?: ShieldTrial; unshielded?: ShieldTrial; balance?: { on: BalanceTrial[]; off: BalanceTrial[] }; tp: Throughput | string; usage?: Awaited<ReturnType<typeof checkerUsage>> } = { tp: 'throughput: not run' };
  const fo = { anycdn: emptyFailover(), baseline: emptyFailover() };

  const a = await res.section('lab: shipped sites', () =>
    withLab(shipped, shippedDir, async () => {
      const usage = checkerUsage(CHECKER_USAGE_MS);
      for (let k = 0; k < EDGE_TRIALS; k++) {
        ch.push(await edgeTrial(shipped, ams, `ch${k}`, k + 1, EDGE_REQUESTS));
        console.log(`edge trial ${k}, balance uri: ${JSON.stringify(ch[k])}`);
        await setBalance(shipped, ams, 'roundrobin');
        try {
          rr.push(await edgeTrial(shipped, ams, `rr${k}`, k + 1, EDGE_REQUESTS));
          console.log(`edge trial ${k}, round robin: ${JSON.stringify(rr[k])}`);
        } finally {
          await setBalance(shipped, ams, 'rendered');
        }
      }
      got.balance = await res.section('lab: shipped sites / balance trials', () => balanceTrials(shipped, ams, BALANCE));
      got.shielded = await shieldTrial(shipped, 'shield', SHIELD_REQUESTS_PER_SITE);
      console.log(`shield: ${JSON.stringify(got.shielded)}`);
      // Before wrk saturates the cores, and before any failure is made.
      got.usage = await usage;
      got.tp = await res.section('lab: shipped sites / throughput runs', () => throughput(shipped, ams, TP));
      console.log(`throughput: ${JSON.stringify(got.tp)}`);
      // Side by side, as in the baseline model below, so both models' figures come from the same
      // arrangement: VRRP at sin, the anycast trials at ams, the frozen bird at nyc.
      const f = failoverBench(shipped, loadPaths());
      await res.section('lab: shipped sites / failover', async () => {
        const done = await Promise.allSettled([
          f.vrrp(3, fo.anycdn),
          (async () => {
            await f.knot(3, fo.anycdn);
            await f.imagePath(3, fo.anycdn);
          })(),
          f.frozen(3, fo.anycdn),
        ]);
        for (const d of done) if (d.status === 'rejected') throw d.reason;
      });
      console.log(`failover, shipped model: ${JSON.stringify(fo.anycdn)}`);
    }),
  );
  const b = await res.section('lab: baseline model', () =>
    withLab(baseline, baselineDir, async () => {
      const f = failoverBench(baseline, loadPaths());
      const frozen = f.frozen(1, fo.baseline);
      try {
        got.unshielded = await shieldTrial(baseline, 'shield', SHIELD_REQUESTS_PER_SITE);
        console.log(`no shield: ${JSON.stringify(got.unshielded)}`);
        // Side by side: VRRP at sin, and at ams the anycast trials, which take 20-50 s each at
        // 10 s checks (fewer trials keep the bench within its 10 minutes).
        const done = await Promise.allSettled([
          f.vrrp(3, fo.baseline),
          (async () => {
            await f.knot(2, fo.baseline);
            await f.imagePath(1, fo.baseline);
          })(),
        ]);
        for (const d of done) if (d.status === 'rejected') throw d.reason;
      } finally {
        await frozen;
        console.log(`failover, baseline model: ${JSON.stringify(fo.baseline)}`);
      }
    }),
  );

  // 1. Edge hit ratio and origin offload.
  const ideal = stats(ch.map((x) => x.idealHitRatio));
  const chHit = stats(ch.map((x) => x.hitRatio));
  const rrHit = stats(rr.map((x) => x.hitRatio));
  const section = 'edge';
  const stream = `Zipf s=${ZIPF_S} over ${BENCH_IMAGES} images, ${EDGE_REQUESTS} requests per trial through ams from its client; ideal hit ratio of this stream (1 − distinct/requests) ${ideal.median}; haproxy as rendered, with hash-balance-factor ${ams.haproxy.hashBalanceFactor || 'off'} (section balance: what its spills cost)`;
  res.add({ section, what: 'edge request hit ratio', unit: '', anycdn: chHit, baseline: { ...rrHit, what: 'round robin' }, ratio: chHit.median / rrHit.median, ratioIs: 'anycdn / round robin', target: `within 1% of the ideal (${ideal.median}); the seeds quote ~95% in steady state`, met: chHit.median >= ideal.median - 0.01, note: stream });
  const chB = stats(ch.map((x) => x.byteHitRatio));
  const rrB = stats(rr.map((x) => x.byteHitRatio));
  res.add({ section, what: 'edge byte hit ratio', unit: '', anycdn: chB, baseline: { ...rrB, what: 'round robin' }, ratio: chB.median / rrB.median, ratioIs: 'anycdn / round robin' });
  const chF = stats(ch.map((x) => x.fetchesPerIdeal));
  const rrF = stats(rr.map((x) => x.fetchesPerIdeal));
  res.add({ section, what: 'origin fetches per ideal (1 per distinct image per site)', unit: '×', anycdn: chF, baseline: { ...rrF, what: 'round robin' }, ratio: chF.median / rrF.median, ratioIs: 'anycdn / round robin', target: '<= 1.01', met: chF.median <= 1.01, note: `origin fetches ${ch.map((x) => x.originFetches).join(', ')} for ${ch.map((x) => x.distinct).join(', ')} distinct images (round robin: ${rr.map((x) => x.originFetches).join(', ')}); failed requests ${[...ch, ...rr].reduce((s, x) => s + x.failed, 0)}` });
  if (got.balance) balanceRows(res, ams, got.balance, BALANCE);
  const { shielded, unshielded, tp, usage } = got;
  if (shielded && unshielded) {
    res.add({
      section,
      what: 'origin fetches, the same streams through all three sites',
      unit: '',
      anycdn: stats([shielded.originFetches]),
      baseline: { ...stats([unshielded.originFetches]), what: 'no shield' },
      ratio: shielded.originFetches / unshielded.originFetches,
      ratioIs: `shield / no shield: the shield cuts origin fetches by ${Math.round((1 - shielded.originFetches / unshielded.originFetches) * 1000) / 10}%`,
      target: `shield at its ideal (${shielded.idealShielded}, one per distinct image), no shield at one per distinct image per site (${unshielded.idealPerSite})`,
      met: shielded.originFetches <= shielded.idealShielded * 1.01,
      note: `${SHIELD_REQUESTS_PER_SITE} requests per site (${shielded.sites.join(', ')}), concurrently; failed requests ${shielded.failed} and ${unshielded.failed}`,
    });
  }

  // 2. Throughput and overhead.
  throughputRows(res, tp);

  // 3. Failover against the common defaults.
  const pair = (what: string, key: Exclude<keyof Failover, 'invalid'>, baseWhat: string, unit: string, target?: string) => {
    const x = stats(fo.anycdn[key]);
    const y = stats(fo.baseline[key]);
    if (x.n === 0 || y.n === 0) return;
    res.add({ section: 'failover', what, unit, anycdn: x, baseline: { ...y, what: baseWhat }, ratio: x.median === 0 ? NaN : y.median / x.median, ratioIs: 'baseline / anycdn', ...(target ? { target } : {}) });
  };
  for (const [model, f] of Object.entries(fo)) res.notes.push(...f.invalid.map((x) => `failover, ${model} model: ${x}`));
  const adv = `advert_int ${BASELINE.advertIntervalMs / 1000}`;
  const hcb = `checks every ${BASELINE.healthcheck.intervalMs / 1000} s, fall ${BASELINE.healthcheck.fall}`;
  pair('VRRP master dies (sin): until the backup serves the VIP', 'vrrpMs', adv, ' ms', '<= 500 ms');
  pair('VRRP master dies: failed requests (300 req/s)', 'vrrpFailed', adv, '');
  pair('knot dies at ams: until its client is answered by nyc', 'knotMs', hcb, ' ms', '<= 1000 ms');
  pair('knot dies at ams: failed client attempts (10/s)', 'knotFailed', hcb, '');
  pair('knot back at ams: until its client is answered by ams again', 'knotBackMs', `rise ${BASELINE.healthcheck.rise}`, ' ms');
  pair('image path dies at ams: until its client is sent to nyc', 'imagePathMs', hcb, ' ms', '<= 1000 ms');
  pair('image path dies at ams: failed client attempts (10/s)', 'imagePathFailed', hcb, '');
  pair('upstream bird frozen: until the router drops the route', 'frozenMs', `no BFD, hold ${BASELINE.holdTimeSec} s`, ' ms', '<= 300 ms');

  // 5. Cost of the lab and of the health checker.
  res.add({ section: 'lab cost', what: 'lab up until ready, shipped sites', unit: ' ms', anycdn: stats([a.upMs]), baseline: { ...stats([b.upMs]), what: 'baseline model' }, target: '<= 15000 ms', met: a.upMs <= 15_000 });
  if (usage) {
    res.add({ section: 'lab cost', what: `health checker CPU, % of one core over ${CHECKER_USAGE_MS / 1000} s (per host)`, note: 'read from /proc/<pid>/stat over the first 60 s after the shipped lab was ready, while the edge and shield replays ran; no failure was made then', unit: ' %', anycdn: { ...usage.cpu, trials: [] }, target: '<= 1 %', met: usage.cpu.median <= 1 });
    res.add({ section: 'lab cost', what: 'health checker resident memory (per host)', unit: ' MiB', anycdn: { ...usage.rssMiB, trials: [] } });
  }
}

/** The fixed-rate load's paths: 100 bench URLs (cached after the first pass). */
function loadPaths(): string[] {
  const pathOf = prepareTrial('load');
  return Array.from({ length: 100 }, (_, i) => pathOf(i));
}

/**
 * Only the balance trials, or only the throughput runs, each in a lab of the shipped sites of its
 * own (`npm run bench -- balance`, `-- throughput`): parts of lab, for a quick look at one.
 */
export async function shippedLabPart(res: Results, root: string, part: 'balance' | 'throughput'): Promise<void> {
  if (existsSync(LAB_DIR)) throw new Error('bench: a lab is up; run `npx anycdn lab down` first (or wait for whoever holds it)');
  const dir = join(root, 'sites');
  const shipped = loadTopology(dir);
  const ams = shipped.sites.find((s) => s.id === 'ams')!;
  if (part === 'balance') {
    const got = await res.section('lab: balance', () => withLab(shipped, dir, () => res.section('lab: balance / trials', () => balanceTrials(shipped, ams, BALANCE))));
    balanceRows(res, ams, got.value, BALANCE);
  } else {
    const got = await res.section('lab: throughput', () => withLab(shipped, dir, () => res.section('lab: throughput / runs', () => throughput(shipped, ams, TP))));
    throughputRows(res, got.value);
  }
}

/** The throughput rows: req/s, p50, CPU per 1,000 requests and p99, VIP against direct. */
function throughputRows(res: Results, tp: Throughput | string): void {
  if (typeof tp === 'string') {
    res.notes.push(tp);
    return;
  }
  const t = tp;
  const via = (k: 'rps' | 'p50Ms' | 'p99Ms') => stats(t.vip.map((x) => x[k]));
  const dir = (k: 'rps' | 'p50Ms' | 'p99Ms') => stats(t.direct.map((x) => x[k]));
  const note = `wrk -t1 -c${TP.connections}, ${TP.seconds} s per run, direct and VIP interleaved, from the ams client; ${t.object.path} (${t.object.bytes} B), a HIT at ${t.object.cache}; errors ${[...t.vip, ...t.direct].reduce((s, x) => s + x.errors, 0)}`;
  res.add({ section: 'throughput', what: 'cache HITs per second through VIP → haproxy → cache', unit: ' req/s', anycdn: via('rps'), baseline: { ...dir('rps'), what: 'the same cache directly' }, ratio: via('rps').median / dir('rps').median, ratioIs: 'VIP / direct', target: '>= 0.7', met: via('rps').median / dir('rps').median >= 0.7, note });
  res.add({ section: 'throughput', what: 'latency p50', unit: ' ms', anycdn: via('p50Ms'), baseline: { ...dir('p50Ms'), what: 'direct' }, ratio: via('p50Ms').median / dir('p50Ms').median, ratioIs: 'VIP / direct' });
  // What each request costs in CPU, both ways: on saturated cores the VIP path can reach at
  // most direct / VIP of these of the direct rate, whatever haproxy's and nginx's configs. The
  // kernel's part of each (system time) is mostly the sends through the lab's network, which no
  // haproxy setting removes (splicing spares only the copies, under a tenth of it under perf).
  const cost = (x: (typeof t.vip)[number]) => (x.cpu ? x.cpu.wrk + x.cpu.haproxy + x.cpu.cache : NaN);
  const part = (xs: typeof t.vip, k: 'wrk' | 'haproxy' | 'cache') => `${stats(xs.map((x) => x.cpu?.[k] ?? NaN)).median} (kernel ${stats(xs.map((x) => x.kernel?.[k] ?? NaN)).median})`;
  const vipCost = stats(t.vip.map(cost));
  const dirCost = stats(t.direct.map(cost));
  // The same bound were haproxy's own code free: only its kernel time (its sockets, and the
  // sends it makes through the lab's veth, bridge and router) left on the VIP side.
  const kernelOnly = stats(t.vip.map((x) => (x.cpu && x.kernel ? cost(x) - (x.cpu.haproxy - x.kernel.haproxy) : NaN)));
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const busy = (xs: typeof t.vip) => stats(xs.map((x) => x.busy ?? NaN)).median;
  res.add({
    section: 'throughput',
    what: 'CPU per 1,000 requests (wrk + haproxy + cache)',
    unit: ' ms',
    anycdn: vipCost,
    baseline: { ...dirCost, what: 'directly (wrk + cache)' },
    ratio: vipCost.median / dirCost.median,
    ratioIs: `VIP / direct: on saturated cores the VIP path can reach at most ${r3(dirCost.median / vipCost.median)} of the direct rate; at most ${r3(dirCost.median / kernelOnly.median)} even if haproxy's own code (its user time) cost nothing`,
    note: `through the VIP: wrk ${part(t.vip, 'wrk')}, haproxy ${part(t.vip, 'haproxy')}, cache ${part(t.vip, 'cache')} ms; directly: wrk ${part(t.direct, 'wrk')}, cache ${part(t.direct, 'cache')} ms; all cores busy ${busy(t.vip)} (VIP) and ${busy(t.direct)} (direct) of the time; the rest of the kernel's network work (softirq on other tasks' time) is not in these`,
  });
  res.add({ section: 'throughput', what: 'latency p99', unit: ' ms', anycdn: via('p99Ms'), baseline: { ...dir('p99Ms'), what: 'direct' }, ratio: via('p99Ms').median / dir('p99Ms').median, ratioIs: 'VIP / direct' });
}
