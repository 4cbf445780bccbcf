// Bounded loads (haproxy.hashBalanceFactor) in a running lab: a seeded Zipf stream (zipf.ts)
// through one site from its client namespace, with the rendered factor and with the factor off,
// interleaved trial by trial, each trial on fresh URLs (hit-ratio.ts's prepareTrial).
//
// haproxy has no runtime command for hash-balance-factor, so the variant is rendered from the
// model with only haproxy.hashBalanceFactor changed and loaded the way the unit reloads
// (rewriteHaproxy); the rendered file goes back after each trial.
//
// What a trial measures:
//   - requests per cache: haproxy's own counters (`show stat` stot of each server of the caches
//     backend, summed over both lb hosts), cleared (`clear counters all`) before the replay;
//   - requests in flight at the caches at most: the backend's smax, the concurrency the bound
//     works on (it bounds requests in flight, not request counts);
//   - spills: a request answered (X-Served-By) by another cache than the one that answered most
//     requests for its image. With the factor off every image has one cache, so this is 0 there,
//     and it is how often the bound engaged with it on;
//   - the hit ratio at the edge and the origin's fetches (its access log), as the edge group.
import { labExecutor } from '../../lib/drain/apply.ts';
import { haproxyCommand } from '../../lib/drain/haproxy-socket.ts';
import { readState } from '../../lib/lab/state.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { sleep } from '../../lib/lab/exec.ts';
import { cacheHosts, hostsWithRole, isDrained } from '../../lib/model/facts.ts';
import type { Host, Site, Topology } from '../../lib/model/schema.ts';
import { BACKEND, renderHaproxy } from '../../lib/render/haproxy.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { ident } from '../../lib/render/syntax/haproxy.ts';
import { originFetches, originLogSize, prepareTrial, replayIn, rewriteHaproxy, BENCH_IMAGES, ZIPF_S } from './hit-ratio.ts';
import { stats, type Results } from './results.ts';
import { zipfStream } from './zipf.ts';

export interface BalanceTrial {
  factor: number;
  concurrency: number;
  requests: number;
  failed: number;
  /** Requests each cache served, from haproxy's counters. */
  perCache: Record<string, number>;
  /** The busiest cache's requests over the mean of the active caches. */
  maxOverMean: number;
  /**
   * The same over the caches the ring alone would have used: each request counted on its image's
   * main cache (X-Served-By). Equal to maxOverMean without the factor; with it, the same trial's
   * load as placed against as served.
   */
  homeMaxOverMean: number;
  /** The most requests in flight at the caches at once (backend smax). */
  inFlightMax: number;
  /** Requests answered by another cache than their image's main one; images with more than one. */
  spilledRequests: number;
  spilledImages: number;
  hitRatio: number;
  originFetches: number;
  distinct: number;
  seconds: number;
}

export interface BalanceOptions {
  requests: number;
  concurrency: number;
}

/**
 * Two pairs in ABBA order (the rendered factor, none, none, the rendered factor): two reloads for
 * two pairs, and a drift of the machine's load over the run weighs on both sides alike. Each pair
 * replays the same stream (its seed) on its own fresh URLs. The rendered file stays.
 */
export async function balanceTrials(t: Topology, site: Site, o: BalanceOptions): Promise<{ on: BalanceTrial[]; off: BalanceTrial[] }> {
  const rendered = site.haproxy.hashBalanceFactor;
  if (rendered === 0) throw new Error(`bench: ${site.id} renders hashBalanceFactor 0; the balance trials compare the factor against none`);
  const trial = async (factor: number, pair: number) => {
    const r = await balanceTrial(t, site, factor, `hb${factor}-c${o.concurrency}-${pair}`, 11 + pair, o);
    console.log(`balance trial ${pair}, hash-balance-factor ${factor || 'none'}: ${JSON.stringify(r)}`);
    return r;
  };
  const on = [await trial(rendered, 0)];
  const off: BalanceTrial[] = [];
  await useFactor(t, site, 0);
  try {
    off.push(await trial(0, 0), await trial(0, 1));
  } finally {
    await useFactor(t, site, rendered);
  }
  on.push(await trial(rendered, 1));
  return { on, off };
}

/** The site's haproxy.cfg rendered with `factor`, checked first against what the lab runs. */
async function useFactor(t: Topology, site: Site, factor: number): Promise<void> {
  const variant: Topology = { ...t, sites: t.sites.map((s) => (s.id === site.id ? { ...s, haproxy: { ...s.haproxy, hashBalanceFactor: factor } } : s)) };
  const variantSite = variant.sites.find((s) => s.id === site.id)!;
  await rewriteHaproxy(t, site, (rendered, file, h) => {
    if (haproxyCfg(t, site, h) !== rendered) throw new Error(`bench: ${file} is not what the model renders; is the lab up with another model?`);
    return haproxyCfg(variant, variantSite, h);
  });
}

function haproxyCfg(t: Topology, site: Site, host: Host): string {
  const f = renderHaproxy(t, site, host).find((x) => x.path === PATHS.haproxyConf);
  if (!f) throw new Error(`bench: ${host.name} renders no haproxy.cfg`);
  return f.content;
}

async function balanceTrial(t: Topology, site: Site, factor: number, trial: string, seed: number, o: BalanceOptions): Promise<BalanceTrial> {
  const pathOf = prepareTrial(trial);
  const ids = zipfStream({ images: BENCH_IMAGES, s: ZIPF_S, requests: o.requests, seed });
  const lbs = hostsWithRole(site, 'lb');
  for (const h of lbs) await lbCommand(h, 'clear counters all');
  const from = originLogSize();
  const r = await replayIn(nsOf.client(site.id), { target: site.vip.address, host: t.cdn.imageHost, paths: ids.map(pathOf), concurrency: o.concurrency, servedBy: true }, 120_000);
  await sleep(200);
  const rows = (await Promise.all(lbs.map((h) => lbCommand(h, 'show stat')))).flatMap(statRows).filter((row) => row.pxname === BACKEND);
  const caches = cacheHosts(site).filter((c) => !isDrained(c));
  const perCache = Object.fromEntries(caches.map((c) => [c.name, rows.filter((row) => row.svname === ident(c.name)).reduce((s, row) => s + Number(row.stot), 0)]));
  const counts = Object.values(perCache);
  const spills = spillsOf(ids.slice(0, r.requests), r.servedBy ?? []);
  const home = homeCounts(ids.slice(0, r.requests), r.servedBy ?? []);
  const homeCountsAll = caches.map((c) => home.get(c.name) ?? 0);
  return {
    factor,
    concurrency: o.concurrency,
    requests: r.requests,
    failed: r.failed,
    perCache,
    maxOverMean: maxOverMean(counts),
    homeMaxOverMean: maxOverMean(homeCountsAll),
    inFlightMax: Math.max(0, ...rows.filter((row) => row.svname === 'BACKEND').map((row) => Number(row.smax))),
    spilledRequests: spills.requests,
    spilledImages: spills.images,
    hitRatio: r.hits / Math.max(1, r.requests),
    originFetches: originFetches(trial, from).total,
    distinct: new Set(ids.slice(0, r.requests)).size,
    seconds: r.seconds,
  };
}

function maxOverMean(counts: number[]): number {
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return mean > 0 ? Math.max(...counts) / mean : NaN;
}

/** Each image's main cache: the one that answered most of its requests (the first on a tie). */
function mainCaches(ids: number[], servedBy: string[]): Map<number, { main: string; counts: Map<string, number> }> {
  const byImage = new Map<number, Map<string, number>>();
  ids.forEach((id, i) => {
    const cache = servedBy[i];
    if (!cache) return;
    const m = byImage.get(id) ?? new Map<string, number>();
    m.set(cache, (m.get(cache) ?? 0) + 1);
    byImage.set(id, m);
  });
  const out = new Map<number, { main: string; counts: Map<string, number> }>();
  for (const [id, counts] of byImage) out.set(id, { main: [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0], counts });
  return out;
}

/** Answered requests per cache, each counted on its image's main cache. */
export function homeCounts(ids: number[], servedBy: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { main, counts } of mainCaches(ids, servedBy).values()) out.set(main, (out.get(main) ?? 0) + [...counts.values()].reduce((a, b) => a + b, 0));
  return out;
}

/** Requests off their image's main cache, and images answered by more than one cache. */
export function spillsOf(ids: number[], servedBy: string[]): { requests: number; images: number } {
  let requests = 0;
  let images = 0;
  for (const { main, counts } of mainCaches(ids, servedBy).values()) {
    if (counts.size > 1) images++;
    requests += [...counts.values()].reduce((a, b) => a + b, 0) - counts.get(main)!;
  }
  return { requests, images };
}

async function lbCommand(h: Host, command: string): Promise<string> {
  const state = readState();
  const root = state ? labExecutor(state).root(h.name) : undefined;
  if (root === undefined) throw new Error(`bench: ${h.name} is not running in the lab`);
  return haproxyCommand(root + PATHS.haproxySocket, command);
}

/** `show stat` as one record per row, keyed by its header's field names. */
function statRows(showStat: string): Record<string, string>[] {
  const lines = showStat.split('\n');
  const head = lines.find((l) => l.startsWith('# '))?.slice(2).split(',') ?? [];
  return lines.filter((l) => l && !l.startsWith('#')).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i] ?? String(i), v])));
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The balance rows of the bench's record: the rendered factor against none, same run. */
export function balanceRows(res: Results, site: Site, got: { on: BalanceTrial[]; off: BalanceTrial[] }, o: BalanceOptions): void {
  const { on, off } = got;
  if (on.length === 0 || off.length === 0) return;
  const section = 'balance';
  const factor = site.haproxy.hashBalanceFactor;
  const base = 'no hash-balance-factor';
  const pair = (what: string, unit: string, f: (x: BalanceTrial) => number, extra: { target?: string; met?: boolean; note?: string } = {}, ratioNote = '') => {
    const a = stats(on.map(f));
    const b = stats(off.map(f));
    res.add({ section, what, unit, anycdn: a, baseline: { ...b, what: base }, ratio: a.median / b.median, ratioIs: `factor ${factor} / none${ratioNote}`, ...extra });
  };
  const perCache = (xs: BalanceTrial[]) => xs.map((x) => Object.entries(x.perCache).map(([c, n]) => `${c} ${n}`).join(' / ')).join('; ');
  const ideal = (x: BalanceTrial) => 1 - x.distinct / Math.max(1, x.requests);
  pair('max over mean requests per cache', '×', (x) => x.maxOverMean, {
    target: `<= ${factor / 100} (it bounds requests in flight, not counts)`,
    met: stats(on.map((x) => x.maxOverMean)).median <= factor / 100,
    note: `Zipf s=${ZIPF_S} over ${BENCH_IMAGES} images, ${o.requests} requests per trial through ${site.id} from its client, ${o.concurrency} at a time, ABBA order; each pair on its own URLs, so the ring places the hot images anew: requests per cache (haproxy stot) ${perCache(on)} (none: ${perCache(off)})`,
  }, ', of trials whose rings differ: the next row compares like with like');
  const asPlaced = stats(on.map((x) => x.homeMaxOverMean));
  const asServed = stats(on.map((x) => x.maxOverMean));
  res.add({
    section,
    what: `max over mean, the factor's own trials: as served against as the ring placed them`,
    unit: '×',
    anycdn: asServed,
    baseline: { ...asPlaced, what: "each request on its image's main cache" },
    ratio: asServed.median / asPlaced.median,
    ratioIs: 'served / placed',
    note: `without the factor the two agree: ${off.map((x) => `${round3(x.maxOverMean)} and ${round3(x.homeMaxOverMean)}`).join('; ')}`,
  });
  pair('requests in flight at the caches, at most (backend smax)', '', (x) => x.inFlightMax, { note: `client concurrency ${o.concurrency}` });
  res.add({
    section,
    what: 'requests off their image\u2019s main cache (the bound engaged)',
    unit: '',
    anycdn: stats(on.map((x) => x.spilledRequests)),
    note: `${base}: ${off.map((x) => x.spilledRequests).join(', ')}; images answered by more than one cache: ${on.map((x) => x.spilledImages).join(', ')} (none: ${off.map((x) => x.spilledImages).join(', ')}); failed requests ${[...on, ...off].reduce((s, x) => s + x.failed, 0)}`,
  });
  pair('edge request hit ratio', '', (x) => x.hitRatio, { note: `ideal of these streams (1 − distinct/requests) ${on.map((x) => Math.round(ideal(x) * 1e4) / 1e4).join(', ')}` });
  pair('origin fetches', '', (x) => x.originFetches, { note: `distinct images ${on.map((x) => x.distinct).join(', ')} (none: ${off.map((x) => x.distinct).join(', ')}); one fetch each is the ideal` });
}
