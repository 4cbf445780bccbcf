// Throughput and overhead of the image path: cache HITs through VIP -> haproxy -> cache against
// the same HIT from the same cache directly, both with wrk from the site's client namespace,
// interleaved (direct, VIP, direct, VIP, ...) so both sides see the same machine load.
import { existsSync } from 'node:fs';
import { cacheHosts } from '../../lib/model/facts.ts';
import type { Site, Topology } from '../../lib/model/schema.ts';
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

async function wrk(ns: string, url: string, host: string, seconds: number, connections: number): Promise<WrkResult> {
  const r = await run('ip', ['netns', 'exec', ns, WRK, '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '2s', '--latency', '-H', `Host: ${host}`, url], { timeoutMs: (seconds + 15) * 1000 });
  if (r.code !== 0) throw new Error(`bench: wrk failed (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
  return parseWrk(r.stdout);
}

export interface Throughput {
  object: { path: string; bytes: number; cache: string };
  vip: WrkResult[];
  direct: WrkResult[];
}

/** `trials` interleaved pairs of wrk runs of `seconds` each, on one image both ways a HIT. */
export async function throughput(t: Topology, site: Site, trials: number, seconds: number): Promise<Throughput | string> {
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
  for (let i = 0; i < trials; i++) {
    out.direct.push(await wrk(ns, directUrl, t.cdn.imageHost, seconds, 16));
    out.vip.push(await wrk(ns, vipUrl, t.cdn.imageHost, seconds, 16));
  }
  return out;
}
