// Edge hit ratio and origin offload, in a running lab.
//
// The origin gets BENCH_IMAGES image URLs per trial under /bench/<trial>/<id>.png: symlinks to a
// pool of 40 real PNGs of five sizes (about 2 KB to 110 KB), picked per id by a hash, so the caches
// store every URL as its own object while the origin's disk holds 40 files. A fresh <trial>
// directory per trial starts every setup on caches that have never seen its URLs.
//
// A seeded Zipf stream (zipf.ts) is replayed from a site's client namespace (replay.ts). The
// origin's access log counts what reached it; the ideal is one fetch per distinct image per site.
//
// Round robin, the baseline: the bench rewrites only the `balance` line of the rendered
// haproxy.cfg in the lab's tree of both lb hosts (the tree is bind-mounted into the host view)
// and reloads haproxy the way its unit's ExecReload does (SIGUSR2 to the master); then puts the
// rendered line back the same way.
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { png } from '../../lib/lab/images.ts';
import { mainPid } from '../../lib/lab/control.ts';
import { sleep, waitFor } from '../../lib/lab/exec.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { http } from '../../lib/lab/probe.ts';
import { labPaths } from '../../lib/lab/state.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { cacheHosts, hostsWithRole } from '../../lib/model/facts.ts';
import type { Host, Site, Topology } from '../../lib/model/schema.ts';
import { run } from '../../lib/run.ts';
import type { ReplayOptions, ReplayResult } from './replay.ts';
import { zipfStream } from './zipf.ts';

export const BENCH_IMAGES = 10_000;
export const ZIPF_S = 1.0;
const POOL = 40;
const SIDES = [24, 48, 96, 144, 192];

/** The pool of PNG bodies the bench URLs point at, written once per lab. */
function writePool(): string {
  const dir = join(labPaths.origin, 'www', 'bench', 'pool');
  if (existsSync(dir)) return dir;
  mkdirSync(dir, { recursive: true });
  for (let p = 0; p < POOL; p++) writeFileSync(join(dir, `${p}.png`), png(SIDES[p % SIDES.length]!, SIDES[p % SIDES.length]!, 1000 + p));
  return dir;
}

const poolOf = (id: number) => (Math.imul(id + 1, 2654435761) >>> 0) % POOL;

/** Creates the URLs /bench/<trial>/<id>.png at the origin; returns the path of image `id`. */
export function prepareTrial(trial: string): (id: number) => string {
  writePool();
  const dir = join(labPaths.origin, 'www', 'bench', trial);
  const fresh = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  if (fresh) for (let id = 0; id < BENCH_IMAGES; id++) symlinkSync(join('..', 'pool', `${poolOf(id)}.png`), join(dir, `${id}.png`));
  return (id) => `/bench/${trial}/${id}.png`;
}

const ACCESS_LOG = () => join(labPaths.origin, 'logs', 'access.log');
export const originLogSize = () => (existsSync(ACCESS_LOG()) ? statSync(ACCESS_LOG()).size : 0);

/** Requests the origin served for `trial` since byte `from` of its access log, by client address. */
export function originFetches(trial: string, from: number): { total: number; byAddress: Record<string, number> } {
  const text = readFileSync(ACCESS_LOG()).subarray(from).toString('utf8');
  const byAddress: Record<string, number> = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^(\S+) .*?"(?:GET|HEAD) (\S+) [^"]*" (\d{3}) /.exec(line);
    if (!m || !m[2]!.startsWith(`/bench/${trial}/`)) continue;
    total++;
    byAddress[m[1]!] = (byAddress[m[1]!] ?? 0) + 1;
  }
  return { total, byAddress };
}

/** Replays `paths` against `target` from inside namespace `ns`. */
export async function replayIn(ns: string, opts: Omit<ReplayOptions, 'timeoutMs' | 'deadlineMs'>, deadlineMs = 180_000): Promise<ReplayResult> {
  const file = join(labPaths.origin, '..', `replay-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ ...opts, timeoutMs: 10_000, deadlineMs }));
  try {
    const script = join(import.meta.dirname, 'replay.ts');
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, file], { timeoutMs: deadlineMs + 30_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`bench: replay in ${ns} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
    return JSON.parse(line) as ReplayResult;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Sets the `balance` line of a site's haproxy on both lb hosts and reloads them. */
export async function setBalance(t: Topology, site: Site, balance: 'roundrobin' | 'rendered'): Promise<void> {
  await rewriteHaproxy(t, site, (rendered, file) => {
    if (balance === 'rendered') return rendered;
    const text = rendered.replace(/^(\s*)balance [^\n]*$/m, '$1balance roundrobin');
    if (text === rendered) throw new Error(`bench: no balance line in ${file}`);
    return text;
  });
}

/**
 * Writes `edit(the rendered haproxy.cfg)` on both lb hosts of a site and reloads haproxy the way
 * its unit does (SIGUSR2 to the master); waits until the VIP serves again.
 */
export async function rewriteHaproxy(t: Topology, site: Site, edit: (rendered: string, file: string, host: Host) => string): Promise<void> {
  for (const h of hostsWithRole(site, 'lb')) {
    const file = join(labPaths.tree(site.id, h.name), PATHS.haproxyConf);
    const original = `${file}.rendered`;
    if (!existsSync(original)) writeFileSync(original, readFileSync(file));
    writeFileSync(file, edit(readFileSync(original, 'utf8'), file, h)); // in place: the host view binds the directory, the inode stays
    const pid = mainPid(h.name, 'haproxy');
    if (!pid) throw new Error(`bench: haproxy is not running on ${h.name}`);
    process.kill(pid, 'SIGUSR2');
  }
  await sleep(1000); // the new workers take over
  const ok = await waitFor(async () => ((await http(nsOf.client(site.id), `http://${site.vip.address}${t.cdn.healthcheck.path}`, { host: t.cdn.imageHost })).status === 200 ? true : undefined), 10_000, 200);
  if (!ok) throw new Error(`bench: ${site.id} VIP does not serve after the haproxy reload`);
}

export interface EdgeTrial {
  requests: number;
  distinct: number;
  hitRatio: number;
  byteHitRatio: number;
  idealHitRatio: number;
  originFetches: number;
  /** origin fetches / ideal (one per distinct image at this site). */
  fetchesPerIdeal: number;
  failed: number;
  seconds: number;
}

/** One trial through one site: a fresh URL set, a replay, the origin's count. */
export async function edgeTrial(t: Topology, site: Site, trial: string, seed: number, requests: number): Promise<EdgeTrial> {
  const pathOf = prepareTrial(trial);
  const ids = zipfStream({ images: BENCH_IMAGES, s: ZIPF_S, requests, seed });
  const from = originLogSize();
  const r = await replayIn(nsOf.client(site.id), { target: site.vip.address, host: t.cdn.imageHost, paths: ids.map(pathOf), concurrency: 8 });
  await sleep(200);
  const fetched = originFetches(trial, from).total;
  // The replay stops at its deadline: the ideal is that of the requests it sent, in stream order.
  const distinct = new Set(ids.slice(0, r.requests)).size;
  return {
    requests: r.requests,
    distinct,
    hitRatio: r.hits / Math.max(1, r.requests),
    byteHitRatio: r.hitBytes / Math.max(1, r.bytes),
    idealHitRatio: 1 - distinct / Math.max(1, r.requests),
    originFetches: fetched,
    fetchesPerIdeal: fetched / distinct,
    failed: r.failed,
    seconds: r.seconds,
  };
}

export interface ShieldTrial {
  sites: string[];
  requests: number;
  originFetches: number;
  /** One fetch per distinct image per site: what every site fetching on its own costs at best. */
  idealPerSite: number;
  /** One fetch per distinct image over all sites: the best a shield can do. */
  idealShielded: number;
  failed: number;
}

/** The same kind of stream through every site at once (its own seed each), one URL set. */
export async function shieldTrial(t: Topology, trial: string, requestsPerSite: number): Promise<ShieldTrial> {
  const pathOf = prepareTrial(trial);
  const sites = t.sites.filter((s) => cacheHosts(s).length > 0);
  const streams = sites.map((s, i) => zipfStream({ images: BENCH_IMAGES, s: ZIPF_S, requests: requestsPerSite, seed: 7000 + i }));
  const from = originLogSize();
  const results = await Promise.all(
    sites.map((s, i) => replayIn(nsOf.client(s.id), { target: s.vip.address, host: t.cdn.imageHost, paths: streams[i]!.map(pathOf), concurrency: 4 })),
  );
  await sleep(200);
  const sent = streams.map((ids, i) => ids.slice(0, results[i]!.requests));
  return {
    sites: sites.map((s) => s.id),
    requests: results.reduce((a, r) => a + r.requests, 0),
    originFetches: originFetches(trial, from).total,
    idealPerSite: sent.reduce((a, ids) => a + new Set(ids).size, 0),
    idealShielded: new Set(sent.flat()).size,
    failed: results.reduce((a, r) => a + r.failed, 0),
  };
}
