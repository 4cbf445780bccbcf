// Failover, in a running lab of either model (the shipped one or baseline-sites.ts's): the lab
// scenarios' failures (test/lab/scenarios.test.ts 4, 5, 6 and 8) with the scenarios' own helpers
// (test/lab/kit.ts, watch.ts), timed from inside the network, and what a client saw meanwhile.
// Every clock starts as the failure starts to be made (before killUnitTree's freeze), so the time
// the kill helper spends on /proc counts against both models alike.
//   vrrp:      the sin VRRP master's keepalived and haproxy die under 300 req/s; until the backup
//              serves the VIP; failed requests of the load (sin has no BGP: nothing else the
//              bench does at ams or nyc meets it, so it can run beside them);
//   knot:      knot dies on every dns host of ams; until the ams client is answered by nyc;
//   imagePath: haproxy dies on every lb host of ams (the site deprefers); the same;
//              for both, a client probe (client-probe.ts) resolves and fetches 10 times a second;
//   frozen:    bird on nyc-lb1 is frozen (SIGSTOP); until the nyc router drops its IPv4 route via
//              it (BFD, or the hold timer without it).
import { killUnitTree, mainPid } from '../../lib/lab/control.ts';
import { sleep, waitFor } from '../../lib/lab/exec.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { anycastFamilies, publishedVip } from '../../lib/model/facts.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { labKit } from '../lab/kit.ts';
import type { LoadOptions, LoadResult } from '../lab/loadgen.ts';
import { timeUntil } from '../lab/watch.ts';
import type { Attempt, ProbeOptions } from './client-probe.ts';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface Failover {
  vrrpMs: number[];
  vrrpFailed: number[];
  knotMs: number[];
  knotBackMs: number[];
  knotFailed: number[];
  imagePathMs: number[];
  imagePathFailed: number[];
  frozenMs: number[];
  /** Trials that measured nothing, and why (kept out of the figures, listed in the notes). */
  invalid: string[];
}

export const emptyFailover = (): Failover => ({ vrrpMs: [], vrrpFailed: [], knotMs: [], knotBackMs: [], knotFailed: [], imagePathMs: [], imagePathFailed: [], frozenMs: [], invalid: [] });

/**
 * Runs a node script inside `ns`; `armed` resolves once it prints `armed` (node starts slowly
 * on a busy machine: a failure armed before that would happen before the traffic), `done` with
 * its last output line parsed as JSON.
 */
function spawnArmed<T>(ns: string, script: string, arg: string, timeoutMs: number): { armed: Promise<void>; done: Promise<T> } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let arm: () => void = () => {};
  const armed = new Promise<void>((r) => (arm = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('armed\n')) arm();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<T>((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      arm();
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !/^[[{]/.test(line)) reject(new Error(`bench: ${script} failed (exit ${code}): ${err.trim().slice(0, 500)}`));
      else resolve(JSON.parse(line) as T);
    });
  });
  return { armed, done };
}

const probeIn = (ns: string, o: ProbeOptions) => spawnArmed<Attempt[]>(ns, join(import.meta.dirname, 'client-probe.ts'), JSON.stringify(o), o.durationMs + 30_000);
const loadIn = (ns: string, o: LoadOptions) => spawnArmed<LoadResult>(ns, join(import.meta.dirname, '..', 'lab', 'loadgen.ts'), JSON.stringify(o), (o.durationSec + 30) * 1000);

export function failoverBench(t: Topology, paths: string[]) {
  const kit = labKit(t);
  const ams = kit.site('ams');
  const nyc = kit.site('nyc');
  const sin = kit.site('sin');
  const hc = t.cdn.healthcheck;
  /** How long a failure can take to be noticed by the health checker, plus room for BGP. */
  const detectMs = hc.fall * (hc.intervalMs + hc.timeoutMs) + 3000;
  const riseMs = hc.rise * (hc.intervalMs + hc.timeoutMs) + 10_000;

  async function vrrp(trials: number, out: Failover): Promise<void> {
    const vip = sin.vip.address;
    const client = nsOf.client('sin');
    const bound = 4 * sin.vip.advertIntervalMs + 2000;
    for (let trial = 0; trial < trials; trial++) {
      // One holder, or the "backup" may serve the VIP before the kill (both hold it while a
      // starved master misses its adverts) and the trial would time nothing.
      const single = await waitFor(async () => ((await Promise.all(kit.lbHosts('sin').map((h) => kit.holdsVip(h, vip)))).filter(Boolean).length === 1 ? true : undefined), 15_000, 100);
      if (!single) throw new Error(`bench: vrrp trial ${trial}: sin's VIP is not on exactly one lb host`);
      const { master, backup } = await kit.vrrpPair('sin');
      const load = loadIn(client, { target: vip, host: kit.IMG, paths, ratePerSec: 300, durationSec: Math.ceil((1500 + bound) / 1000) + 1, timeoutMs: 3000 });
      await load.armed;
      await sleep(1500);
      try {
        // The clock starts as the kill starts: killUnitTree freezes the tree (SIGSTOP) before its
        // SIGKILL, and a frozen master already sends no adverts.
        const ms = await timeUntil(client, kit.backupServes(backup, vip), bound + 3000, async () => {
          await Promise.all([killUnitTree(master, 'keepalived'), killUnitTree(master, 'haproxy')]);
        });
        if (ms === undefined) throw new Error(`bench: vrrp trial ${trial}: the backup did not serve the VIP`);
        const failed = (await load.done).failed;
        if (ms === 0) out.invalid.push(`VRRP trial ${trial}: ${backup} already served the VIP when ${master} was killed (both held it)`);
        else {
          out.vrrpMs.push(ms);
          out.vrrpFailed.push(failed);
        }
      } finally {
        await load.done.catch(() => undefined);
        await kit.restartAsBackup(master, ['haproxy', 'keepalived'], trial);
      }
    }
  }

  /** Breaks ams's announcement, times the move of its client to nyc with the probe running, mends it. */
  async function anycast(trials: number, breakIt: () => Promise<void>, mend: () => Promise<void>, ms: number[], failed: number[], back?: number[]): Promise<void> {
    const client = nsOf.client('ams');
    for (let trial = 0; trial < trials; trial++) {
      let mended = false;
      try {
        const probe = probeIn(client, { dns: kit.ANYCAST, name: kit.IMG, path: paths[0]!, intervalMs: 100, durationMs: detectMs + 1000 });
        await probe.armed;
        await sleep(300); // a few attempts before the failure
        const away = await timeUntil(client, kit.dnsAnswers(publishedVip(nyc)), detectMs + 2000, breakIt);
        if (away === undefined) throw new Error(`bench: trial ${trial}: the ams client was not sent to nyc`);
        ms.push(away);
        failed.push((await probe.done).filter((a) => !a.ok).length);
        // The recovery is timed when asked for, and waited for when another trial follows.
        if (!back && trial === trials - 1) continue;
        const rec = await timeUntil(client, kit.dnsAnswers(publishedVip(ams)), riseMs, async () => {
          await mend();
          mended = true;
        });
        if (rec === undefined) throw new Error(`bench: trial ${trial}: ams did not answer again`);
        back?.push(rec);
      } finally {
        if (!mended) await mend();
      }
    }
  }

  const knot = (trials: number, out: Failover) => {
    const hosts = kit.dnsHosts('ams');
    return anycast(
      trials,
      async () => {
        await Promise.all(hosts.map((h) => killUnitTree(h, 'knot')));
      },
      () => kit.restart(hosts, 'knot'),
      out.knotMs,
      out.knotFailed,
      out.knotBackMs,
    );
  };

  const imagePath = (trials: number, out: Failover) => {
    const hosts = kit.lbHosts('ams');
    return anycast(
      trials,
      async () => {
        await Promise.all(hosts.map((h) => killUnitTree(h, 'haproxy')));
      },
      () => kit.restart(hosts, 'haproxy'),
      out.imagePathMs,
      out.imagePathFailed,
    );
  };

  /** Freezes bird on nyc-lb1; until the nyc router has no IPv4 route via it; then thaws it. */
  async function frozen(trials: number, out: Failover): Promise<void> {
    const host = nyc.hosts.find((h) => h.name === 'nyc-lb1')!;
    const router = nsOf.router('nyc');
    const gone = `! ip route show ${anycastFamilies(t)[0]!.prefix} | grep -q 'via ${host.address} '`;
    const present = `ip route show ${anycastFamilies(t)[0]!.prefix} | grep -q 'via ${host.address} '`;
    const bound = nyc.bgp.holdTimeSec * 1000 + 5000;
    for (let trial = 0; trial < trials; trial++) {
      const ok = await timeUntil(router, present, 45_000, () => undefined);
      if (ok === undefined) throw new Error(`bench: frozen trial ${trial}: no route via nyc-lb1 before`);
      const pid = mainPid('nyc-lb1', 'bird');
      if (!pid) throw new Error('bench: bird is not running on nyc-lb1');
      try {
        const ms = await timeUntil(router, gone, bound, () => {
          process.kill(pid, 'SIGSTOP');
        });
        if (ms === undefined) throw new Error(`bench: frozen trial ${trial}: the route via nyc-lb1 stayed`);
        out.frozenMs.push(ms);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    }
  }

  return { vrrp, knot, imagePath, frozen };
}
