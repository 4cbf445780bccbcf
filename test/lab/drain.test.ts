// Draining in the lab, under load: `anycdn drain ... --apply --lab` and `anycdn undrain`, run
// in-process through the CLI, against the shipped sites (ams drains after 5 s instead of 60, so
// the scenarios stay short). What the clients see is measured; figures go to
// test/.figures/lab-drain.json and are printed at the end. The lab is torn down even on failure.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { checkerState, holdsAddress, logSize, waitForLog } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { sleep, waitFor } from '../../lib/lab/exec.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { LAB_IMAGE_COUNT } from '../../lib/lab/origin.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { dig, http, routeVia } from '../../lib/lab/probe.ts';
import { anycastFamilies, publishedVip } from '../../lib/model/facts.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { LB_QUIESCE_MAX_MS } from '../../lib/drain/plan.ts';
import { vrrpPriority } from '../../lib/model/facts.ts';
import { run } from '../../lib/run.ts';
import { missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { labUpReady } from './bring-up.ts';
import { Figures } from './figures.ts';
import { startDnsLoad, startLoad } from './watch.ts';

const skip = missingRoot() ?? missingLabDaemon();

/** The shipped sites, with ams withdrawing 5 s after a drain begins. */
const WITHDRAW_AFTER_SEC = 5;
const SITES = mkdtempSync(join(tmpdir(), 'anycdn-lab-drain-'));
cpSync(SITES_DIR, SITES, { recursive: true });
writeFileSync(join(SITES, 'ams.yaml'), readFileSync(join(SITES, 'ams.yaml'), 'utf8').replace('drain:\n  fallbackSite: nyc\n', `drain:\n  fallbackSite: nyc\n  withdrawAfterSec: ${WITHDRAW_AFTER_SEC}\n`));

const t = loadTopology(SITES);
const IMG = t.cdn.imageHost;
/** The first anycast prefix's IPv4 service address, and the covering prefix bird announces. */
const ANYCAST = anycastFamilies(t)[0]!.address;
const ANYCAST_PREFIX = anycastFamilies(t)[0]!.prefix;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
const ams = site('ams');
const nyc = site('nyc');
const LOAD_PATHS = imageSet(LAB_IMAGE_COUNT)
  .slice(0, 100)
  .map((i) => `/${i.name}`);
const figures = new Figures();
const FIGURES = join(import.meta.dirname, '..', '.figures', 'lab-drain.json');

/** `anycdn <args>` in-process, as the operator runs it. */
async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--sites', SITES], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** Which cache serves each path now (X-Served-By through the VIP, from the site's client). */
async function servedBy(id: string, paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    const r = await http(nsOf.client(id), `http://${site(id).vip.address}${p}`, { host: IMG, timeoutSec: 3 });
    out[p] = r.headers['x-served-by'] ?? `status ${r.status}`;
  }
  return out;
}

/** Whether `host` holds the VIP now (lib/lab/control.ts: read from its namespace, no process). */
const holdsVip = async (host: string, vip: string): Promise<boolean> => holdsAddress(host, vip);

/** The first query sent at or after `from` from which every answer is `address`; its send time. */
function settledAt(log: [number, string][], from: number, address: string): number | undefined {
  let at: number | undefined;
  for (const [sent, answer] of log) {
    if (sent < from) continue;
    if (answer === address) at ??= sent;
    else at = undefined;
  }
  return at;
}

describe.skipIf(skip)('lab: draining under load', () => {
  beforeAll(async () => {
    await labUpReady(t, SITES);
  }, 120_000);

  afterAll(async () => {
    await labDown();
    rmSync(SITES, { recursive: true, force: true });
    figures.write(FIGURES);
    console.log(`\nlab drain figures (also in test/.figures/lab-drain.json):\n${figures.table()}\n`);
  }, 60_000);

  it('a cache drains under load with 0 failed requests; only its share moves; undrain brings its share back', async () => {
    const probe = LOAD_PATHS.slice(0, 30);
    const before = await servedBy('ams', probe);
    const mine = probe.filter((p) => before[p] === 'ams-cache1');
    const theirs = probe.filter((p) => before[p] === 'ams-cache2');
    expect(mine.length, JSON.stringify(before)).toBeGreaterThan(0);
    expect(theirs.length, JSON.stringify(before)).toBeGreaterThan(0);
    const load = startLoad(nsOf.client('ams'), { target: ams.vip.address, host: IMG, paths: LOAD_PATHS, ratePerSec: 380, durationSec: 12, timeoutMs: 3000 });
    let drained = false;
    try {
      await sleep(3000);
      const t0 = Date.now();
      const d = await cli(['drain', 'ams/ams-cache1', '--apply', '--lab']);
      drained = true;
      expect(d.code, [...d.out, ...d.err].join('\n')).toBe(0);
      expect(d.out.at(-1)).toBe('safe to stop ams-cache1: no request in flight on it on ams-lb1, ams-lb2');
      const safeMs = Date.now() - t0;
      const r = await load;
      expect(r.failed, JSON.stringify({ byStatus: r.byStatus, errors: r.errors, achieved: r.achievedRatePerSec })).toBe(0);
      // The proof asks for at least 300 req/s; a machine too busy to send them is a failed run, not a pass.
      expect(r.achievedRatePerSec, 'the load generator could not keep 300 req/s').toBeGreaterThanOrEqual(300);
      const during = await servedBy('ams', probe);
      // Its URIs moved, to the one cache left; the other cache's URIs did not move at all.
      expect(Object.values(during).every((c) => c === 'ams-cache2'), JSON.stringify(during)).toBe(true);
      figures.record('drain a cache (ams-cache1)', 'failed requests', 'requests', '0', [r.failed], `${r.achievedRatePerSec} req/s for 12 s, drained at 3 s`);
      figures.record('drain a cache (ams-cache1)', 'until safe to stop (no session left)', 'ms', 'reported', [safeMs]);
      figures.record('drain a cache (ams-cache1)', 'client retries of a stale keep-alive socket', 'requests', 'reported', [r.staleSocketRetries]);
      const u = await cli(['undrain', 'ams/ams-cache1', '--apply', '--lab']);
      drained = false;
      expect(u.code, [...u.out, ...u.err].join('\n')).toBe(0);
      const after = await servedBy('ams', probe);
      expect(after, 'undrain: every URI back on the cache it had before').toEqual(before);
      figures.record('drain a cache (ams-cache1)', 'URIs back on their cache after undrain', 'requests', `${probe.length} of ${probe.length}`, [probe.filter((p) => after[p] === before[p]).length]);
    } finally {
      await load.catch(() => undefined);
      if (drained) await cli(['undrain', 'ams/ams-cache1', '--apply', '--lab']);
    }
  }, 90_000);

  it('the VRRP master drains under load with 0 failed requests; the only resets are of requests no byte of which was answered, retried once; undrain takes the VIP back', async () => {
    const vip = ams.vip.address;
    const [lb1, lb2] = ams.hosts.filter((h) => h.roles.includes('lb')).sort((a, b) => vrrpPriority(ams, b) - vrrpPriority(ams, a));
    const scenario = `drain the VRRP master (${lb1!.name})`;
    // With preemption, the higher priority holds the VIP once the pair has settled.
    expect(await waitFor(async () => ((await holdsVip(lb1!.name, vip)) ? true : undefined), 20_000, 200), `${lb1!.name} holds the VIP`).toBe(true);
    // The client retries what an HTTP client may retry (RFC 9112 9.3.1): a GET whose connection
    // was reset before any response byte, once, on a new connection. Everything else is a failure:
    // a reset mid-response, a refused connection, a timeout (3 s), a status other than 200.
    const load = startLoad(nsOf.client('ams'), { target: vip, host: IMG, paths: LOAD_PATHS, ratePerSec: 380, durationSec: 10, timeoutMs: 3000, retryFreshResets: true });
    let drained = false;
    try {
      await sleep(3000);
      const t0 = Date.now();
      const moved = waitFor(async () => ((await holdsVip(lb2!.name, vip)) ? Date.now() - t0 : undefined), 10_000, 20);
      const d = await cli(['drain', `ams/${lb1!.name}`, '--apply', '--lab']);
      drained = true;
      const safeMs = Date.now() - t0;
      expect(d.code, [...d.out, ...d.err].join('\n')).toBe(0);
      const quiesced = d.out.find((l) => l.startsWith('applied on') && l.includes('show sess')) ?? '(no quiesce step)';
      const moveMs = await moved;
      expect(moveMs, `${lb2!.name} did not take the VIP`).toBeDefined();
      const r = await load;
      const detail = JSON.stringify({ byStatus: r.byStatus, errors: r.errors, resets: r.resets, sent: r.sendRatePerSec, achieved: r.achievedRatePerSec });
      figures.record(scenario, 'failed requests, all kinds', 'requests', '0', [r.failed], `${r.sendRatePerSec} req/s sent for 10 s (${r.achievedRatePerSec} until the last answer), drained at 3 s; ${detail}`);
      figures.record(scenario, 'connection resets seen by the client', 'requests', 'reported', [r.resets]);
      figures.record(scenario, 'resets retried (reused socket / new connection)', 'requests', 'reported', [r.staleSocketRetries + r.freshResetRetries], `${r.staleSocketRetries} reused, ${r.freshResetRetries} new`);
      figures.record(scenario, `until ${lb2!.name} holds the VIP`, 'ms', 'reported', [moveMs!]);
      figures.record(scenario, 'until safe to stop (VIP gone, no request in flight)', 'ms', 'reported', [safeMs]);
      figures.record(scenario, 'responses under way finished, before the VIP moved', 'ms', `<= ${LB_QUIESCE_MAX_MS}`, [Number(/after (\d+) ms/.exec(quiesced)?.[1] ?? NaN)], quiesced.split('|| true: ')[1]);
      figures.record(scenario, 'slowest request (p99 / max)', 'ms', 'reported', [r.p99Ms, r.maxMs]);
      console.log(`lb drain: failed ${r.failed}, resets ${r.resets}, retried ${r.staleSocketRetries} reused + ${r.freshResetRetries} new, VIP moved after ${moveMs} ms, safe after ${safeMs} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms, ${r.sendRatePerSec} req/s sent; ${detail}; quiesce: ${quiesced.split('|| true: ')[1] ?? quiesced}`);
      expect(r.failed, detail).toBe(0);
      expect(d.out).toContain(`safe to stop ${lb1!.name}'s haproxy and keepalived: the VIP is on ${lb2!.name} and no request is in flight on ${lb1!.name}`);
      // Every reset the client saw was one it retried: none beyond those.
      expect(r.resets, detail).toBe(r.staleSocketRetries + r.freshResetRetries);
      // The proof asks for at least 300 req/s offered; a machine too busy to send them is a failed
      // run, not a pass. (Sent while sending: new connections wait about 1 s during the drain, and
      // that latency, reported above, is not a lower rate of requests.)
      expect(r.sendRatePerSec, 'the load generator could not send 300 req/s').toBeGreaterThanOrEqual(300);
      expect(await holdsVip(lb1!.name, vip), 'the drained host gave up the VIP').toBe(false);
      const from = logSize(lb1!.name, 'keepalived');
      const u0 = Date.now();
      const u = await cli(['undrain', `ams/${lb1!.name}`, '--apply', '--lab']);
      drained = false;
      expect(u.code, [...u.out, ...u.err].join('\n')).toBe(0);
      expect(await waitForLog(lb1!.name, 'keepalived', /Entering BACKUP STATE/, from, 10_000), `${lb1!.name} back as backup`).toBe(true);
      const preempt = ams.vip.preempt === false ? 0 : ams.vip.preempt.delaySec;
      const back = await waitFor(async () => ((await holdsVip(lb1!.name, vip)) ? Date.now() - u0 : undefined), (preempt + 10) * 1000, 100);
      expect(back, `${lb1!.name} did not take the VIP back within preempt_delay + 10 s`).toBeDefined();
      figures.record(scenario, 'undrain: until it holds the VIP again (preempt_delay)', 'ms', `~ ${preempt} s`, [back!]);
    } finally {
      await load.catch(() => undefined);
      if (drained) await cli(['undrain', `ams/${lb1!.name}`, '--apply', '--lab']);
    }
  }, 120_000);

  it('a site drains: clients near it move to the next site, no DNS query unanswered; undrain brings them back', async () => {
    const client = nsOf.client('ams');
    const amsVip = publishedVip(ams);
    const nycVip = publishedVip(nyc);
    const amsHosts = ams.hosts.filter((h) => h.roles.includes('dns'));
    // The previous scenario drained an ams dns host: both must announce again first.
    expect(await waitFor(async () => (amsHosts.every((h) => checkerState(h.name) === 'announced') ? true : undefined), 30_000, 200), amsHosts.map((h) => `${h.name} ${checkerState(h.name)}`).join(', ')).toBe(true);
    expect(await dig(client, ANYCAST, IMG)).toMatchObject({ address: amsVip });
    const dnsLoad = startDnsLoad(client, { server: ANYCAST, name: IMG, ratePerSec: 50, durationSec: WITHDRAW_AFTER_SEC + 14, timeoutMs: 1000 });
    let drained = false;
    try {
      await sleep(2000);
      const t0 = Date.now();
      const d = await cli(['drain', 'ams', '--apply', '--lab']);
      drained = true;
      expect(d.code, [...d.out, ...d.err].join('\n')).toBe(0);
      const safeMs = Date.now() - t0;
      // Withdrawn: the ams router reaches the anycast prefix through the core only.
      const via = await routeVia(nsOf.router('ams'), ANYCAST_PREFIX);
      expect(via.filter((h) => amsHosts.some((x) => x.address === h)), `anycast via ${via.join(', ')}`).toEqual([]);
      await sleep(2000);
      const u0 = Date.now();
      const u = await cli(['undrain', 'ams', '--apply', '--lab']);
      drained = false;
      expect(u.code, [...u.out, ...u.err].join('\n')).toBe(0);
      const r = await dnsLoad;
      const moved = settledAt(r.log.filter(([s]) => s < u0), t0, nycVip);
      const back = settledAt(r.log, u0, amsVip);
      const answers = [...new Set(r.log.map(([, a]) => a))].sort();
      expect(r.unanswered, `answers seen: ${answers.join(', ')}`).toBe(0);
      expect(moved, 'the ams client never settled on nyc').toBeDefined();
      expect(back, 'the ams client did not come back to ams').toBeDefined();
      figures.record('drain a site (ams)', 'DNS queries unanswered (50/s over drain, withdraw, undrain)', 'requests', '0', [r.unanswered], `${r.sent} sent; answers ${answers.join(', ')}`);
      figures.record('drain a site (ams)', 'until the nearby client is answered with nyc', 'ms', 'reported', [moved! - t0]);
      figures.record('drain a site (ams)', `until safe to stop (withdrawn, ${WITHDRAW_AFTER_SEC} s delay)`, 'ms', `~ ${WITHDRAW_AFTER_SEC} s`, [safeMs]);
      figures.record('drain a site (ams)', 'undrain: until the nearby client is answered with ams', 'ms', 'reported', [back! - u0]);
    } finally {
      await dnsLoad.catch(() => undefined);
      if (drained) await cli(['undrain', 'ams', '--apply', '--lab']);
    }
  }, 120_000);
});
