// The lab scenarios of the lab issue: the shipped three sites run for real in network namespaces,
// parts are killed, and what the clients see is measured. Each scenario undoes its failure in
// `finally`, every wait is bounded, and the lab is torn down even when a scenario fails.
// Figures go to test/.figures/lab.json and are printed at the end.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology } from '../../lib/model/load.ts';
import { anycastFamilies, originTarget, publishedVip } from '../../lib/model/facts.ts';
import { checkerState, isAlive, killUnitTree, logSince, logSize, mainPid, startOriginAgain, stopOrigin } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { sleep, waitFor } from '../../lib/lab/exec.ts';
import { run } from '../../lib/run.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { LAB_IMAGE_COUNT } from '../../lib/lab/origin.ts';
import { CORE, NS_PREFIX, nsOf, ORIGIN, planLab } from '../../lib/lab/plan.ts';
import { labNamespaces } from '../../lib/lab/network.ts';
import { dig, http } from '../../lib/lab/probe.ts';
import { waitReady } from '../../lib/lab/status.ts';
import { labUp } from '../../lib/lab/up.ts';
import { LAB_DIR, readState } from '../../lib/lab/state.ts';
import { startLoad, timeUntil } from './watch.ts';
import { missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { labUpReady } from './bring-up.ts';
import { Figures } from './figures.ts';
import { labKit } from './kit.ts';

const TRIALS = 5;
const skip = missingRoot() ?? missingLabDaemon();

const t = loadTopology(SITES_DIR);
const plan = planLab(t);
const IMG = t.cdn.imageHost;
// The first anycast prefix (ns1's): its service addresses and the covering prefixes routers carry.
const [A4, A6] = anycastFamilies(t);
const ANYCAST = A4!.address;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
const ams = site('ams');
const nyc = site('nyc');
const images = imageSet(LAB_IMAGE_COUNT);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const figures = new Figures();
const ORIGIN_V4 = ORIGIN.v4;
/** The load runs over the first 100 images; scenario 9 needs images nobody fetched yet. */
const LOAD_PATHS = images.slice(0, 100).map((i) => `/${i.name}`);

const { dnsAnswers, lbHosts, vrrpSettled, vrrpPair, backupServes, restart, restartAsBackup } = labKit(t);

/** The machine's CPU time from /proc/stat: busy and total jiffies over all cores. */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

let fetches = 0;
async function fetchImage(client: string, vip: string, path: string): Promise<{ status: number; cache: string; servedBy: string; sha: string }> {
  const body = join(LAB_DIR, `fetch-${process.pid}-${fetches++}`);
  const r = await run('ip', ['netns', 'exec', client, 'curl', '-s', '-D', '-', '-o', body, '--max-time', '5', '-H', `Host: ${IMG}`, `http://${vip}${path}`], { timeoutMs: 8000 });
  const headers = r.stdout;
  const bodySha = existsSync(body) ? sha(readFileSync(body)) : '';
  rmSync(body, { force: true });
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(headers)?.[1] ?? 0);
  const cache = /^x-cache-status: (\w+)/im.exec(headers)?.[1] ?? /^x-cache: (HIT|MISS)/im.exec(headers)?.[1] ?? '';
  const servedBy = /^x-served-by: (\S+)/im.exec(headers)?.[1] ?? '';
  return { status, cache: cache.toUpperCase(), servedBy, sha: bodySha };
}

describe.skipIf(skip)('lab: the shipped sites in network namespaces', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    await labUpReady(t, SITES_DIR);
    figures.record('lab up', 'up until every site serves and answers DNS', 's', '< 15 s', [Number(((Date.now() - t0) / 1000).toFixed(1))]);
  }, 120_000);

  afterAll(async () => {
    await labDown();
    figures.write();
    console.log(`\nlab figures (also in test/.figures/lab.json):\n${figures.table()}\n`);
  }, 60_000);

  it('1. anycast DNS: each client gets its nearest site VIP, and NSID names that site', async () => {
    for (const s of [ams, nyc]) {
      const a = await dig(nsOf.client(s.id), ANYCAST, IMG);
      expect(a).toEqual({ address: publishedVip(s), nsid: expect.stringMatching(new RegExp(`^${s.id}/${s.id}-lb[12]$`)) });
    }
    // sin announces through Global Accelerator, which the lab does not have: its client is
    // answered by one of the BGP sites.
    const sin = await dig(nsOf.client('sin'), ANYCAST, IMG);
    expect([publishedVip(ams), publishedVip(nyc)]).toContain(sin.address);
  });

  it('isolation: every lab link ends in a lab namespace, none in the machine\'s own network', async () => {
    const state = readState()!;
    for (const ns of state.namespaces) {
      const links = (await run('ip', ['-n', ns, '-o', 'link', 'show'], { timeoutMs: 3000 })).stdout.trim().split('\n');
      for (const l of links.filter((x) => / veth|@if/.test(x))) expect(l, `${ns}: ${l}`).toMatch(/link-netns acdn-/);
    }
  });

  it('up refuses to start over a running lab and says how to clean it', async () => {
    await expect(labUp(t, SITES_DIR)).rejects.toThrow(/already up or half-built .*run `anycdn lab down` first/);
  });

  it('security on the VIP: no stats or exporter, POST refused, no forward proxying', async () => {
    const client = nsOf.client('ams');
    const vip = ams.vip.address;
    const stats = await http(client, `http://${vip}:8404/`, { timeoutSec: 1 });
    expect(stats.status, 'stats port on the VIP').toBe(0);
    const metrics = await http(client, `http://${vip}/metrics`, { host: IMG, timeoutSec: 2 });
    expect(metrics.status, '/metrics through the VIP').not.toBe(200);
    const post = await http(client, `http://${vip}/${images[3]!.name}`, { host: IMG, method: 'POST', timeoutSec: 2 });
    expect(post.status).toBe(405);
    const proxy = await run('ip', ['netns', 'exec', client, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', '--proxy', `http://${vip}:80`, `http://${ORIGIN_V4}/img/0003.png`], { timeoutMs: 5000 });
    expect(['403', '404', '405', '421', '400'], `forward-proxy request through the VIP got ${proxy.stdout}`).toContain(proxy.stdout.trim());
  });

  it('2. image path: MISS then HIT, one cache per URI, bytes equal to the origin', async () => {
    for (const s of [ams, nyc]) {
      const client = nsOf.client(s.id);
      const img = images[s.id === 'ams' ? 7 : 8]!;
      const first = await fetchImage(client, s.vip.address, `/${img.name}`);
      const second = await fetchImage(client, s.vip.address, `/${img.name}`);
      expect([first.status, first.cache, second.status, second.cache]).toEqual([200, 'MISS', 200, 'HIT']);
      expect(first.sha).toBe(sha(img.data));
      expect(second.sha).toBe(sha(img.data));
      const servedBy = new Set<string>();
      for (let i = 0; i < 6; i++) servedBy.add((await fetchImage(client, s.vip.address, `/${img.name}`)).servedBy);
      expect(servedBy.size, `${s.id}: one URI, one cache`).toBe(1);
      const spread = new Set<string>();
      for (const other of images.slice(20, 40)) spread.add((await fetchImage(client, s.vip.address, `/${other.name}`)).servedBy);
      expect(spread.size, `${s.id}: URIs spread over the caches`).toBe(2);
    }
  }, 60_000);

  it('3. a cache dies under load: failed requests', async () => {
    const inFlight: number[] = [];
    const after: number[] = [];
    const staleRetries: number[] = [];
    const achieved: number[] = [];
    for (const [s, cacheHost, unit] of [
      [ams, 'ams-cache1', 'nginx'],
      [nyc, 'nyc-cache1', 'squid'],
    ] as const) {
      await vrrpSettled(s.id);
      const load = startLoad(nsOf.client(s.id), { target: s.vip.address, host: IMG, paths: LOAD_PATHS, ratePerSec: 350, durationSec: 10, timeoutMs: 3000 });
      await sleep(5000);
      try {
        const killedAt = await killUnitTree(cacheHost, unit);
        const r = await load;
        // The client asks for 350 req/s; on a busy machine it manages less, which is reported. The
        // scenario still means something while it keeps well over a hundred a second going.
        achieved.push(Math.round(r.achievedRatePerSec));
        expect(r.achievedRatePerSec, 'the load generator could not keep 100 req/s').toBeGreaterThanOrEqual(100);
        expect(r.sent).toBeGreaterThanOrEqual(1000);
        // Requests sent before the kill may have been streaming from the dying cache: haproxy
        // cannot retry a response that has begun. Every request sent after it must succeed.
        const early = r.failureStarts.filter((t0) => t0 < killedAt).length;
        inFlight.push(early);
        after.push(r.failed - early);
        staleRetries.push(r.staleSocketRetries);
        const offsets = r.failureStarts.map((t0) => t0 - killedAt);
        const haproxyLog = lbHosts(s.id)
          .flatMap((h) => (existsSync(join(LAB_DIR, 'logs', h, 'haproxy.log')) ? readFileSync(join(LAB_DIR, 'logs', h, 'haproxy.log'), 'utf8').split('\n') : []))
          .filter((l) => / images caches\//.test(l) && !/ 200 \d+ - - ---- /.test(l))
          .slice(-12);
        const vrrpLog = lbHosts(s.id).flatMap((h) =>
          (existsSync(join(LAB_DIR, 'logs', h, 'keepalived.log')) ? readFileSync(join(LAB_DIR, 'logs', h, 'keepalived.log'), 'utf8').split('\n') : [])
            .filter((l) => /STATE|tracked|Script/.test(l))
            .slice(-4)
            .map((l) => `${h}: ${l}`),
        );
        haproxyLog.push(`killed at ${new Date(killedAt).toISOString()}`, ...vrrpLog);
        expect(r.failed - early, `${s.id}: ${JSON.stringify({ byStatus: r.byStatus, errors: r.errors, msAfterKill: offsets })}\nhaproxy:\n${haproxyLog.join('\n')}`).toBe(0);
      } finally {
        await load.catch(() => undefined);
        await restart([cacheHost], unit);
      }
    }
    figures.record('3 cache dies under load', 'failed, sent after the kill (ams nginx, nyc squid)', 'requests', '0', after, '350 req/s for 10 s over 100 images, SIGKILL at 5 s');
    figures.record('3 cache dies under load', 'failed, in flight at the kill (ams nginx, nyc squid)', 'requests', 'reported (exempt)', inFlight);
    figures.record('3 cache dies under load', 'client retries of a stale keep-alive socket', 'requests', 'reported', staleRetries);
    figures.record('3 cache dies under load', 'load achieved (asked 350)', 'req/s', 'reported', achieved);
  }, 90_000);

  it('4. the VRRP master dies under load: time until the backup serves the VIP, failed requests', async () => {
    const vip = nyc.vip.address;
    const client = nsOf.client('nyc');
    const times: number[] = [];
    const failed: number[] = [];
    const staleRetries: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const { master, backup } = await vrrpPair('nyc');
      const load = startLoad(client, { target: vip, host: IMG, paths: LOAD_PATHS, ratePerSec: 300, durationSec: 4, timeoutMs: 3000 });
      await sleep(1500);
      try {
        const ms = await timeUntil(client, backupServes(backup, vip), 5000, async () => {
          return Math.max(...(await Promise.all([killUnitTree(master, 'keepalived'), killUnitTree(master, 'haproxy')])));
        });
        expect(ms, `trial ${trial}: the backup did not serve the VIP within 5 s`).toBeDefined();
        times.push(ms!);
        const r = await load;
        failed.push(r.failed);
        staleRetries.push(r.staleSocketRetries);
      } finally {
        await load.catch(() => undefined);
        await restartAsBackup(master, ['haproxy', 'keepalived'], trial);
      }
    }
    figures.record('4 VRRP master dies', 'time until the backup serves the VIP', 'ms', '<= 500 ms', times);
    figures.record('4 VRRP master dies', 'failed requests during failover', 'requests', 'reported', failed, '300 req/s; requests in flight on the dead master fail');
    figures.record('4 VRRP master dies', 'client retries of a stale keep-alive socket', 'requests', 'reported', staleRetries, 'connections to the dead haproxy, retried once like a browser');
  }, 120_000);

  it('4b. haproxy dies on a live master: time until the backup serves the VIP', async () => {
    const vip = nyc.vip.address;
    const client = nsOf.client('nyc');
    const times: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const { master, backup } = await vrrpPair('nyc');
      try {
        const ms = await timeUntil(client, backupServes(backup, vip), 5000, () => killUnitTree(master, 'haproxy'));
        expect(ms, `trial ${trial}: the backup did not serve the VIP within 5 s`).toBeDefined();
        times.push(ms!);
      } finally {
        await restartAsBackup(master, ['haproxy'], trial);
      }
    }
    figures.record('4b haproxy dies on the master', 'time until the backup serves the VIP', 'ms', '<= 500 ms', times, 'keepalived alive; vrrp_track_file set by the unit');
  }, 120_000);

  /** Breaks ams's announcement with `breakIt`, times the move to nyc, mends it, times the return. */
  async function anycastScenario(name: string, breakIt: () => Promise<number>, mend: () => Promise<void>): Promise<void> {
    const client = nsOf.client('ams');
    const away: number[] = [];
    const back: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      expect(await dig(client, ANYCAST, IMG), `${name}, trial ${trial}: ams answers before the failure`).toMatchObject({ address: publishedVip(ams) });
      let mended = false;
      try {
        const ms = await timeUntil(client, dnsAnswers(publishedVip(nyc)), 5000, breakIt);
        expect(ms, `${name}, trial ${trial}: the ams client was not sent to nyc within 5 s`).toBeDefined();
        away.push(ms!);
        const rec = await timeUntil(client, dnsAnswers(publishedVip(ams)), 20_000, async () => {
          await mend();
          mended = true;
        });
        expect(rec, `${name}, trial ${trial}: ams did not come back within 20 s`).toBeDefined();
        back.push(rec!);
      } finally {
        if (!mended) await mend();
      }
    }
    figures.record(name, 'time until the nearby client is sent to nyc', 'ms', '<= 1000 ms', away);
    figures.record('10 recovery', `${name}: until ams answers again`, 'ms', `rise ${t.cdn.healthcheck.rise} probes`, back);
  }

  it('5. DNS dies at a site: the nearby client is answered by another site', async () => {
    const hosts = ams.hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name);
    await anycastScenario(
      '5 DNS dies at ams',
      // The site is down when the last of its dns hosts is.
      async () => Math.max(...(await Promise.all(hosts.map((h) => killUnitTree(h, 'knot'))))),
      () => restart(hosts, 'knot'),
    );
  }, 180_000);

  it('6. the image path dies at a site: the site deprefers its anycast DNS, and its clients move', async () => {
    const hosts = lbHosts('ams');
    await anycastScenario(
      '6 image path dies at ams (deprefer)',
      async () => Math.max(...(await Promise.all(hosts.map((h) => killUnitTree(h, 'haproxy'))))),
      () => restart(hosts, 'haproxy'),
    );
  }, 240_000);

  it('6b. the image path dies at every site: the CDN stays in DNS, every client still gets an answer', async () => {
    const sites = [ams, nyc];
    const lbs = sites.flatMap((s) => lbHosts(s.id));
    const dnsHosts = sites.flatMap((s) => s.hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name));
    const states = () => dnsHosts.map((h) => `${h} ${checkerState(h)}`);
    // The previous scenario's site may still be rising back to a plain announcement.
    expect(await waitFor(async () => (states().every((x) => x.endsWith(' announced')) ? true : undefined), 15_000, 100), states().join(', ')).toBe(true);
    const from = new Map(dnsHosts.map((h) => [h, logSize(h, 'anycdn-healthcheck')]));
    await Promise.all(lbs.map((h) => killUnitTree(h, 'haproxy')));
    try {
      // Every dns host depreferred, and none withdrew.
      const all = await waitFor(async () => (states().every((x) => x.endsWith(' depreferred')) ? true : undefined), 5000, 50);
      expect(all, states().join(', ')).toBe(true);
      for (const [host, at] of from) expect(logSince(host, 'anycdn-healthcheck', at), host).not.toMatch(/: withdraw /);
      const answered: string[] = [];
      for (const s of [ams, nyc, site('sin')]) {
        const a = await dig(nsOf.client(s.id), ANYCAST, IMG);
        expect([publishedVip(ams), publishedVip(nyc)], `${s.id} client answered`).toContain(a.address);
        answered.push(`${s.id}->${a.nsid}`);
      }
      // Equal prepends everywhere: each client is still answered by its nearest BGP site.
      expect(answered.slice(0, 2).map((x) => x.replace(/-lb[12]$/, ''))).toEqual(['ams->ams/ams', 'nyc->nyc/nyc']);
      figures.record('6b image path dies everywhere', 'clients answered (ams, nyc, sin)', 'clients', '3 of 3', [answered.length]);
    } finally {
      await restart(lbs, 'haproxy');
    }
    const back = await waitReady(t, plan, 30_000);
    expect(back.ready ? [] : back.reasons).toEqual([]);
  }, 120_000);

  it('7. the health checker dies: the prefix is withdrawn with it', async () => {
    const hosts = ams.hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name);
    await anycastScenario(
      '7 health checker dies at ams',
      async () => Math.max(...(await Promise.all(hosts.map((h) => killUnitTree(h, 'anycdn-healthcheck'))))),
      () => restart(hosts, 'anycdn-healthcheck'),
    );
  }, 180_000);

  it('8. silent upstream failure: BFD drops the frozen peer, the hold timer is the comparison', async () => {
    const host = nyc.hosts.find((h) => h.name === 'nyc-lb1')!;
    const router = nsOf.router('nyc');
    const via4 = `! ip route show ${A4!.prefix} | grep -q 'via ${host.address} '`;
    const via6 = `! ip -6 route show ${A6!.prefix} | grep -q 'via ${host.address6} '`;
    const present4 = `ip route show ${A4!.prefix} | grep -q 'via ${host.address} '`;
    const presentBoth = `${present4} && ip -6 route show ${A6!.prefix} | grep -q 'via ${host.address6} '`;
    const bfd: number[] = [];
    const hold: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const pid = mainPid('nyc-lb1', 'bird');
      if (!pid) throw new Error(`trial ${trial}: bird is not running on nyc-lb1`);
      expect((await run('ip', ['netns', 'exec', router, 'sh', '-c', presentBoth])).code, `trial ${trial}: v4 and v6 routes via nyc-lb1 before`).toBe(0);
      const withHold = trial < 2; // the hold timer takes seconds; two trials show it
      try {
        const w6 = withHold ? timeUntil(router, via6, 15_000, () => undefined) : undefined;
        const ms = await timeUntil(router, via4, 5000, () => {
          process.kill(pid, 'SIGSTOP');
        });
        expect(ms, `trial ${trial}: BFD did not drop the route within 5 s`).toBeDefined();
        bfd.push(ms!);
        if (w6) {
          const h = await w6;
          expect(h, `trial ${trial}: the hold timer did not drop the v6 route within 15 s`).toBeDefined();
          hold.push(h!);
        }
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Both sessions must be back before the next trial, or it would time a route already gone.
      const ok = await timeUntil(router, presentBoth, 45_000, () => undefined);
      expect(ok, `trial ${trial}: the routes via nyc-lb1 did not come back`).toBeDefined();
    }
    figures.record('8 silent upstream failure', 'BFD (100 ms x 3): route dropped after SIGSTOP', 'ms', '<= 300 ms', bfd);
    figures.record('8 silent upstream failure', `no BFD, hold ${nyc.bgp.holdTimeSec} s (v6 session)`, 'ms', 'comparison', hold);
  }, 180_000);

  it('9. the origin is down: stale hits, fast errors on misses, and the shield in front of the origin', async () => {
    const client = nsOf.client('ams');
    const cached = images[7]!; // fetched through ams in scenario 2
    const uncached = images[110]!;
    await stopOrigin();
    try {
      // At the model's port and scheme (the lab origin listens nowhere else): nothing answers.
      const o = originTarget(t);
      const direct = await run('ip', ['netns', 'exec', client, 'curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '1', `${o.tls ? 'https' : 'http'}://${ORIGIN_V4}:${o.port}/img/0003.png`], { timeoutMs: 3000 });
      expect(direct.stdout.trim(), 'the origin still answers after it was stopped').toBe('000');
      const hit = await fetchImage(client, ams.vip.address, `/${cached.name}`);
      expect([hit.status, hit.sha]).toEqual([200, sha(cached.data)]);
      const t0 = Date.now();
      const miss = await http(client, `http://${ams.vip.address}/${uncached.name}`, { host: IMG, timeoutSec: 15 });
      const missMs = Date.now() - t0;
      expect([502, 503, 504]).toContain(miss.status);
      expect(missMs).toBeLessThan(t.cdn.cache.originConnectTimeoutSec * 1000);
      figures.record('9 origin down', 'uncached image: time to 5xx', 'ms', `< originConnectTimeoutSec (${t.cdn.cache.originConnectTimeoutSec} s)`, [missMs], `status ${miss.status}`);
    } finally {
      await startOriginAgain();
    }
    // Shield: a miss at nyc goes through ams, so ams has it cached afterwards.
    const fresh = images[111]!;
    const atNyc = await fetchImage(nsOf.client('nyc'), nyc.vip.address, `/${fresh.name}`);
    expect([atNyc.status, atNyc.cache, atNyc.sha]).toEqual([200, 'MISS', sha(fresh.data)]);
    const atAms = await fetchImage(client, ams.vip.address, `/${fresh.name}`);
    expect([atAms.status, atAms.cache]).toEqual([200, 'HIT']);
  }, 60_000);

  it('11. both cores saturated for 60 s: no announcement moves; knot killed meanwhile is still withdrawn fast', async () => {
    const dnsHosts = t.sites.flatMap((x) => x.hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name));
    const hogCount = availableParallelism() * 2;
    // Bounded busy loops inside a lab namespace: `timeout` ends them, and `finally` kills them by PID.
    const hogs = Array.from({ length: hogCount }, () => spawn('ip', ['netns', 'exec', CORE.ns, 'timeout', '90', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }));
    const amsDns = ams.hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name);
    let knotKilled = false;
    try {
      await sleep(1000); // the hogs are running
      const from = new Map(dnsHosts.map((h) => [h, logSize(h, 'anycdn-healthcheck')]));
      const cpu0 = cpuTimes();
      await sleep(60_000);
      const cpu1 = cpuTimes();
      const busy = Math.round((100 * (cpu1.busy - cpu0.busy)) / (cpu1.total - cpu0.total));
      const moves = dnsHosts.flatMap((h) => logSince(h, 'anycdn-healthcheck', from.get(h)!).split('\n').filter((l) => /: (announce|withdraw|deprefer) /.test(l)).map((l) => `${h}: ${l}`));
      figures.record('11 saturation', 'machine CPU busy during the 60 s', '%', '100', [busy], `${hogCount} busy loops in ${CORE.ns}`);
      figures.record('11 saturation', 'announce/withdraw transitions, all sites, 60 s', 'transitions', '0', [moves.length]);
      expect(busy, 'the busy loops did not saturate the machine').toBeGreaterThanOrEqual(90);
      expect(moves, 'announcement changes while every site was healthy').toEqual([]);
      // A real failure while still saturated: knot dies at ams.
      expect(await dig(nsOf.client('ams'), ANYCAST, IMG), 'ams answers before knot dies').toMatchObject({ address: publishedVip(ams) });
      const ms = await timeUntil(nsOf.client('ams'), dnsAnswers(publishedVip(nyc)), 5000, async () => {
        knotKilled = true;
        return Math.max(...(await Promise.all(amsDns.map((h) => killUnitTree(h, 'knot')))));
      });
      expect(ms, 'the ams client was not sent to nyc within 5 s under saturation').toBeDefined();
      figures.record('11 saturation', 'knot killed at ams: time until the nearby client is sent to nyc', 'ms', '<= 2000 ms', [ms!]);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
      if (knotKilled) await restart(amsDns, 'knot');
    }
    const back = await waitReady(t, plan, 30_000);
    expect(back.ready ? [] : back.reasons).toEqual([]);
  }, 180_000);

  it('down removes every namespace and process it started', async () => {
    const recorded = readState()!.processes.map((p) => p.pid);
    const r = await labDown();
    expect(r.namespaces).toBeGreaterThan(0);
    expect(await labNamespaces(NS_PREFIX)).toEqual([]);
    expect(recorded.filter(isAlive)).toEqual([]);
    expect(readState()).toBeUndefined();
  });
});
