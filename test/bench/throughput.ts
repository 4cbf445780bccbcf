// Throughput and overhead of the image path: cache HITs through VIP -> haproxy -> cache against
// the same HIT from the same cache directly, both with wrk from the site's client namespace,
// interleaved (direct, VIP, direct, VIP, ...) so both sides see the same machine load.
//
// Beside each run, the CPU each side spent (utime + stime from /proc of wrk, of every haproxy
// process of the site's lb hosts and of the cache's daemon, workers included) per request, and
// how busy the machine's cores were: on saturated cores the VIP path can serve at most
// (CPU per request directly) / (CPU per request through the VIP) of the direct rate, whatever
// the configs, which is what the ratio is measured against.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cacheHosts, hostsWithRole } from '../../lib/model/facts.ts';
import type { Site, Topology } from '../../lib/model/schema.ts';
import { mainPid } from '../../lib/lab/control.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { http } from '../../lib/lab/probe.ts';
import { run } from '../../lib/run.ts';
import { prepareTrial } from './hit-ratio.ts';

export const WRK = '/usr/bin/wrk';

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU ms per 1,000 requests: wrk's, the site's haproxy's (0 directly) and the cache's. */
  cpu?: { wrk: number; haproxy: number; cache: number };
  /** The part of `cpu` spent in the kernel (system time): sockets, and the lab's veth, bridge and routing hops a send crosses. */
  kernel?: { wrk: number; haproxy: number; cache: number };
  /** The share of the machine's cores busy during the run (0..1, all processes, /proc/stat). */
  busy?: number;
  requests?: number;
}

const toMs = (v: string, unit: string) => Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

/** wrk's --latency report: requests/s, p50 and p99 in ms, socket errors and non-2xx responses. */
export function parseWrk(out: string): WrkResult {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) throw new Error(`bench: no ${p}% line in wrk's output: ${out.slice(0, 500)}`);
    return Math.round(toMs(m[1]!, m[2]!) * 1000) / 1000;
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  if (!rps) throw new Error(`bench: no Requests/sec in wrk's output: ${out.slice(0, 500)}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (sock ? sock.slice(1).reduce((a, x) => a + Number(x), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { rps: Math.round(Number(rps[1])), p50Ms: pct('50'), p99Ms: pct('99'), errors };
}

const HZ = 100; // USER_HZ on Linux

/** utime and stime (clock ticks) of `pid` and every descendant (haproxy and nginx workers). */
function treeTicks(pid: number): { user: number; sys: number } {
  const sum = { user: 0, sys: 0 };
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum.user += Number(f[11]);
      sum.sys += Number(f[12]);
      for (const tid of readdirSync(`/proc/${p}/task`)) {
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) stack.push(Number(c));
      }
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** Busy and total jiffies of all cores (/proc/stat's first line). */
function cpuJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, x) => a + x, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

/** `times` after wrk in the same shell: the children's user and system seconds. */
export function childTimes(out: string): { user: number; sys: number } {
  const lines = out.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(lines[lines.length - 1] ?? '');
  return m ? { user: Number(m[1]) * 60 + Number(m[2]), sys: Number(m[3]) * 60 + Number(m[4]) } : { user: NaN, sys: NaN };
}

/** The children's user + system seconds (`childTimes`). */
export function childSeconds(out: string): number {
  const t = childTimes(out);
  return t.user + t.sys;
}

async function wrk(ns: string, url: string, host: string, seconds: number, connections: number, pids: { haproxy: number[]; cache: number[] }): Promise<WrkResult> {
  const ticks = (xs: number[]) => xs.reduce((a, p) => {
    const t = treeTicks(p);
    return { user: a.user + t.user, sys: a.sys + t.sys };
  }, { user: 0, sys: 0 });
  const h0 = ticks(pids.haproxy);
  const c0 = ticks(pids.cache);
  const j0 = cpuJiffies();
  const cmd = `${WRK} -t1 -c${connections} -d${seconds}s --timeout 2s --latency -H 'Host: ${host}' '${url}'; s=$?; times; exit $s`;
  const r = await run('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { timeoutMs: (seconds + 15) * 1000 });
  if (r.code !== 0) throw new Error(`bench: wrk failed (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
  const j1 = cpuJiffies();
  const res = parseWrk(r.stdout);
  const requests = Math.max(1, Number(/(\d+) requests in /.exec(r.stdout)?.[1] ?? Math.round(res.rps * seconds)));
  const perK = (ms: number) => Math.round((1000 * ms) / requests * 1000) / 1000;
  const h1 = ticks(pids.haproxy);
  const c1 = ticks(pids.cache);
  const w = childTimes(r.stdout);
  const ms = (a: { user: number; sys: number }, b: { user: number; sys: number }) => ({ all: ((b.user + b.sys - a.user - a.sys) * 1000) / HZ, sys: ((b.sys - a.sys) * 1000) / HZ });
  const h = ms(h0, h1);
  const c = ms(c0, c1);
  return {
    ...res,
    requests,
    cpu: { wrk: perK((w.user + w.sys) * 1000), haproxy: perK(h.all), cache: perK(c.all) },
    kernel: { wrk: perK(w.sys * 1000), haproxy: perK(h.sys), cache: perK(c.sys) },
    busy: Math.round(((j1.busy - j0.busy) / Math.max(1, j1.total - j0.total)) * 1000) / 1000,
  };
}

export interface Throughput {
  object: { path: string; bytes: number; cache: string };
  vip: WrkResult[];
  direct: WrkResult[];
}

/** `trials` interleaved pairs of wrk runs of `seconds` each, on one image both ways a HIT. */
export async function throughput(t: Topology, site: Site, o: { trials: number; seconds: number; connections: number }): Promise<Throughput | string> {
  if (!existsSync(WRK)) return `wrk is not installed (apt-get install wrk): throughput figures skipped`;
  const ns = nsOf.client(site.id);
  const path = prepareTrial('tp')(42);
  const vipUrl = `http://${site.vip.address}${path}`;
  const first = await http(ns, vipUrl, { host: t.cdn.imageHost });
  const second = await http(ns, vipUrl, { host: t.cdn.imageHost });
  const servedBy = second.headers['x-served-by'];
  const cache = cacheHosts(site).find((c) => c.name === servedBy);
  if (first.status !== 200 || second.headers['x-cache-status'] !== 'HIT' || !cache) throw new Error(`bench: ${path} is not a HIT through the ${site.id} VIP: ${JSON.stringify(second)}`);
  const directUrl = `http://${cache.address}${path}`;
  const direct = await http(ns, directUrl, { host: t.cdn.imageHost });
  if (direct.status !== 200 || direct.headers['x-cache-status'] !== 'HIT') throw new Error(`bench: ${path} is not a HIT at ${cache.name} directly: ${JSON.stringify(direct)}`);
  const out: Throughput = { object: { path, bytes: direct.bytes, cache: cache.name }, vip: [], direct: [] };
  const pids = {
    haproxy: hostsWithRole(site, 'lb').flatMap((h) => mainPid(h.name, 'haproxy') ?? []),
    cache: (['nginx', 'squid'] as const).flatMap((u) => mainPid(cache.name, u) ?? []),
  };
  for (let i = 0; i < o.trials; i++) {
    out.direct.push(await wrk(ns, directUrl, t.cdn.imageHost, o.seconds, o.connections, pids));
    out.vip.push(await wrk(ns, vipUrl, t.cdn.imageHost, o.seconds, o.connections, pids));
  }
  return out;
}
