// BFD in the lab, against another BGP stack: ams's upstream router runs FRR 8.4 (bgpd + bfdd,
// Debian 12's), configured as its operator would for the model's sessions: transit1 with
// `neighbor X ttl-security hops 1` and `neighbor X bfd`, transit1-v6 with `bfd` alone, each with
// its own timers (100 ms x 3 and 250 ms x 4, a BFD profile per peer). ams's bird runs `ttl security
// on` and per-session bfd blocks.
//
// 1. The defect, from what the daemons do: BGP comes up on both sessions, but FRR runs the GTSM
//    session's BFD as RFC 5883 multihop (UDP 4784) while bird runs it single-hop (3784), so it
//    never comes up; a frozen FRR is then noticed only at the hold timer. BfdSessionNotUp, the
//    rendered alert evaluated by promtool on what bird's exporter serves, fires.
// 2. The fix from our side, bfd.multihop: true on transit1 (bird runs the session as multihop 1,
//    GTSM unchanged): BFD Up, the alert silent, and a frozen FRR detected on each session in about
//    its own interval x multiplier (per-peer timers, issue 25 section 5).
// 3. Graceful shutdown (RFC 8326) at FRR: `anycdn drain ams/ams-lb1 --role dns` announces with
//    65535:0 first; FRR's route via ams-lb1 drops to local preference 0 and loses best path before
//    the withdrawal, as at the lab's bird routers; the undrain brings it back.
//
// 4. The machine: FRR's compiled-in /var/tmp/frr (crash log, log buffers, left behind when a
//    daemon is killed) and the package's /run/frr are exactly as before up, after down.
//
// Every wait is bounded; traffic stays in the lab's namespaces; the lab is torn down before and
// after, even when a test fails (lib/lab/down.ts, by PID and namespace).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { labDown } from '../../lib/lab/down.ts';
import { bfdRows } from '../../lib/lab/status.ts';
import { sleep, waitFor } from '../../lib/lab/exec.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { vtyshArgs } from '../../lib/lab/router-frr.ts';
import { labPaths, readState } from '../../lib/lab/state.ts';
import { renderBird } from '../../lib/render/bird.ts';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { anycastFamilies, EXPORTER_PORTS } from '../../lib/model/facts.ts';
import { METRICS_PATH } from '../../lib/render/endpoints.ts';
import { PATHS } from '../../lib/render/paths.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { run } from '../../lib/run.ts';
import { missingBinary, missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { parseSamples, promtoolAlerts } from '../helpers/promtool.ts';
import { changes, snapshot } from '../helpers/snapshot.ts';
import { runbookUrl } from '../../lib/render/alerts/rule.ts';
import { loadEdited } from '../helpers/topology.ts';
import { labUpEdited } from './bring-up.ts';
import { Figures } from './figures.ts';
import { watchFor } from './watch.ts';

const skip =
  missingRoot() ??
  missingLabDaemon() ??
  [
    ['/usr/lib/frr/bgpd', 'frr'],
    ['/usr/lib/frr/bfdd', 'frr'],
    ['/usr/bin/vtysh', 'frr'],
    ['/usr/bin/tcpdump', 'tcpdump'],
    ['/usr/bin/promtool', 'prometheus'],
    ['/usr/bin/prometheus-bird-exporter', 'prometheus-bird-exporter'],
  ]
    .map(([b, p]) => missingBinary(b!, p!))
    .find(Boolean);

/** How long a draining ams dns host announces with the graceful-shutdown community before it withdraws. */
const WITHDRAW_AFTER_SEC = 8;
/** Prometheus on ams-lb1, so it may scrape its own bird exporter; transit1-v6 on timers of its own; ams withdraws 8 s into a drain. */
const edit = (x: Record<string, string>) => {
  const cdn = x['sites/cdn.yaml']!.replace(/monitoring:\n  prometheus: .*\n  scrapeFrom: .*\n/, 'monitoring:\n  prometheus: 198.51.100.11\n  scrapeFrom: [198.51.100.11/32]\n');
  const ams = x['sites/ams.yaml']!.replace('      asn: 64501\n      bfd: true\n\n', '      asn: 64501\n      bfd: { intervalMs: 250, multiplier: 4 }\n\n');
  const drained = ams.replace('drain:\n  fallbackSite: nyc\n', `drain:\n  fallbackSite: nyc\n  withdrawAfterSec: ${WITHDRAW_AFTER_SEC}\n`);
  if (cdn === x['sites/cdn.yaml'] || ams === x['sites/ams.yaml'] || drained === ams) throw new Error('the lab edit did not apply: the shipped sites changed shape');
  x['sites/cdn.yaml'] = cdn;
  x['sites/ams.yaml'] = drained;
};
/** The fix: transit1's BFD runs multihop, as FRR runs it for a GTSM neighbor. */
const fix = (x: Record<string, string>) => {
  edit(x);
  const ams = x['sites/ams.yaml']!.replace('      bfd: true\n      passwordRef: ssm:/anycdn/ams/bgp/transit1', '      bfd: { multihop: true }\n      passwordRef: ssm:/anycdn/ams/bgp/transit1');
  if (ams === x['sites/ams.yaml']) throw new Error('the fix did not apply');
  x['sites/ams.yaml'] = ams;
};
const t = loadEdited(edit);
const fixed = loadEdited(fix);
const ams = t.sites.find((s) => s.id === 'ams')!;
const [V4, V6] = [ams.bgp.peers[0]!, ams.bgp.peers[1]!];
const HOST = 'ams-lb1';
const hostAddr = ams.hosts.find((h) => h.name === HOST)!;
const ROUTER = nsOf.router('ams');
const figures = new Figures('lab-bfd');
let dir = '';

/** birdc on a dns host, inside its view (its control socket is on the view's /run). */
const hostBirdc = (host: string, ...args: string[]) =>
  run('nsenter', ['--target', String(readState()!.holders[host]!), '--mount', '--net', '--', 'birdc', '-s', PATHS.birdCtl, ...args], { timeoutMs: 5000 });
const vtysh = (...cmds: string[]) => run('ip', vtyshArgs('ams', ROUTER, ...cmds), { timeoutMs: 10_000 });

/** bird's BFD sessions on a host: neighbour address -> state. */
async function birdBfd(host: string): Promise<Record<string, string>> {
  const out = (await hostBirdc(host, 'show', 'bfd', 'sessions')).stdout;
  return Object.fromEntries([...out.matchAll(/^(\S+)\s+\S+\s+(Up|Down|Init|AdminDown)\s/gm)].map((m) => [m[1]!, m[2]!]));
}

/** What `anycdn lab status` shows for ams-lb1's BFD sessions: "<peer> <state>", in the model's peer order. */
async function labBfd(): Promise<string[]> {
  return (await bfdRows(ams, readState()!.holders)).filter((r) => r.host === HOST).map((r) => `${r.peer} ${r.state}`);
}

interface FrrBfdPeer {
  peer: string;
  multihop?: boolean;
  status: string;
  'transmit-interval': number;
  'detect-multiplier': number;
}
const frrBfd = async (): Promise<FrrBfdPeer[]> => JSON.parse((await vtysh('show bfd peers json')).stdout) as FrrBfdPeer[];
async function frrBgpStates(): Promise<Record<string, string>> {
  const j = JSON.parse((await vtysh('show bgp summary json')).stdout) as Record<string, { peers?: Record<string, { state: string }> }>;
  return Object.fromEntries(Object.values(j).flatMap((af) => Object.entries(af.peers ?? {}).map(([a, p]) => [a, p.state])));
}

/** What bird's exporter on ams-lb1 serves, scraped from Prometheus' address (ams-lb1 itself here). */
async function scrapeBird(): Promise<string> {
  const url = `http://${hostAddr.address}:${EXPORTER_PORTS.bird}${METRICS_PATH}`;
  const r = await run('ip', ['netns', 'exec', nsOf.host(HOST), 'curl', '-s', '--max-time', '3', '--noproxy', '*', url], { timeoutMs: 5000 });
  expect(r.stdout, `scrape ${url}`).toMatch(/^bird_protocol_up\{/m);
  return r.stdout;
}

/** BfdSessionNotUp for transit1, evaluated by promtool on the rules rendered from `model` and the scraped values. */
async function alertFor(model: Topology, metrics: string, expectFiring: boolean) {
  const rules = renderPrometheus(model).find((f) => f.path === PATHS.prometheusRules)!.content;
  const target = { site: 'ams', host: HOST, job: 'bird', instance: `${hostAddr.address}:${EXPORTER_PORTS.bird}` };
  const samples = parseSamples(metrics, ['bird_bfd_session_up', 'bird_protocol_up']).map((s) => ({ ...s, labels: { ...s.labels, ...target } as Record<string, string> }));
  const down = samples.find((s) => s.name === 'bird_bfd_session_up' && s.labels.ip === V4.address)!;
  expect(down, 'the exporter serves transit1\'s BFD session').toBeDefined();
  const expected = expectFiring
    ? [{ labels: { alertname: 'BfdSessionNotUp', severity: 'warning', ...down.labels, hold_time_sec: String(ams.bgp.holdTimeSec) }, annotations: { summary: `BFD to ${V4.address} on ${HOST} (ams) is not Up while its BGP session is: a dead upstream is noticed only at the hold timer (${ams.bgp.holdTimeSec} s), not by BFD in a fraction of a second. If the upstream runs FRR with ttl-security, its BFD is multihop: set bfd.multihop: true on that peer (or have the upstream drop ttl-security on the session)`, runbook_url: runbookUrl(model, 'BfdSessionNotUp') } }]
    : [];
  return promtoolAlerts(rules, samples, 'BfdSessionNotUp', '5m', expected);
}

/** UDP BFD packets on the router's site link for `sec` seconds, counted by direction and port. */
async function bfdPackets(sec: number): Promise<{ hostToRouter3784: number; routerToHost4784: number; hostToRouter4784: number; routerToHost3784: number }> {
  const r = await run('ip', ['netns', 'exec', ROUTER, 'timeout', String(sec), 'tcpdump', '-n', '-l', '-i', 'site', 'udp port 3784 or udp port 4784'], { timeoutMs: (sec + 5) * 1000 });
  const lines = r.stdout.split('\n');
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  const host = hostAddr.address.replace(/\./g, '\\.');
  const router = V4.address.replace(/\./g, '\\.');
  return {
    hostToRouter3784: count(new RegExp(`IP ${host}\\.\\d+ > ${router}\\.3784:`)),
    routerToHost4784: count(new RegExp(`IP ${router}\\.\\d+ > ${host}\\.4784:`)),
    hostToRouter4784: count(new RegExp(`IP ${host}\\.\\d+ > ${router}\\.4784:`)),
    routerToHost3784: count(new RegExp(`IP ${router}\\.\\d+ > ${host}\\.3784:`)),
  };
}

/** The PIDs of the FRR daemons of the ams router (recorded by `up`). */
const frrPids = () => readState()!.processes.filter((p) => p.owner === 'router-ams' && ['zebra', 'bfdd', 'bgpd'].includes(p.unit)).map((p) => p.pid);
/** FRR's path for `prefix` learned from `peer`: its local preference (FRR omits the default, 100) and whether it is best. */
async function frrPath(prefix: string, peer: string): Promise<{ localPref: number; best: boolean } | undefined> {
  const j = JSON.parse((await vtysh(`show bgp ipv4 unicast ${prefix} json`)).stdout || '{}') as { paths?: { locPrf?: number; bestpath?: { overall?: boolean }; peer?: { peerId?: string } }[] };
  const p = j.paths?.find((x) => x.peer?.peerId === peer);
  return p ? { localPref: p.locPrf ?? 100, best: p.bestpath?.overall === true } : undefined;
}

/** anycdn drain|undrain in-process through the CLI, against the lab's model. */
async function cli(args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main([...args, '--sites', dir], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, text: lines.join('\n') };
}

const signalAll = (sig: NodeJS.Signals) => frrPids().forEach((pid) => process.kill(pid, sig));

/** sh condition in ams-lb1's namespace: its BGP connection to `peer` is no longer established. */
const sessionGone = (peer: string) => `! ss -Htn state established dst ${peer.includes(':') ? `[${peer}]` : peer} | grep -q .`;
const sessionUp = (peer: string) => `ss -Htn state established dst ${peer.includes(':') ? `[${peer}]` : peer} | grep -q .`;

/** Freezes FRR whole (SIGSTOP), times each session's drop at ams-lb1, thaws it. */
async function freezeAndTime(peers: string[], timeoutMs: number): Promise<(number | undefined)[]> {
  for (const p of peers) expect((await run('ip', ['netns', 'exec', nsOf.host(HOST), 'sh', '-c', sessionUp(p)])).code, `${p} established before the freeze`).toBe(0);
  const watches = peers.map((p) => watchFor(nsOf.host(HOST), sessionGone(p), timeoutMs));
  await Promise.all(watches.map((w) => w.armed));
  const t0 = Date.now();
  try {
    signalAll('SIGSTOP');
    const at = await Promise.all(watches.map((w) => w.done));
    return at.map((x) => (x === undefined ? undefined : x - t0));
  } finally {
    signalAll('SIGCONT');
  }
}

/** Both sessions Established at FRR and, where `bfdUp`, their BFD Up at ams-lb1 (bounded). */
async function settled(bfdUp: string[], ms = 45_000): Promise<boolean> {
  const ok = await waitFor(async () => {
    const bgp = await frrBgpStates();
    const peersUp = [hostAddr.address, hostAddr.address6!].every((a) => bgp[a] === 'Established');
    const bfd = await birdBfd(HOST);
    return peersUp && bfdUp.every((a) => bfd[a] === 'Up') ? true : undefined;
  }, ms, 250);
  return ok === true;
}

/** Where FRR writes on a machine of its own, outside the paths the lab gives it. */
const FRR_MACHINE = { trees: ['/var/tmp', '/run/frr'], shallow: [], skip: new Map<string, string>(), limit: 10_000 };
let machineBefore: Map<string, string> | undefined;

describe.skipIf(skip)('lab: BFD with an FRR upstream that runs GTSM', () => {
  beforeAll(async () => {
    await labDown(); // a crashed run's lab (and its FRR) must not write into the snapshot below
    machineBefore = snapshot(FRR_MACHINE);
    dir = await labUpEdited(t, 'bfd', edit, { frrRouters: ['ams'] });
  }, 180_000);

  afterAll(async () => {
    await labDown();
    if (dir) rmSync(dir, { recursive: true, force: true });
    figures.write();
    console.log(`\nlab BFD figures (also in test/.figures/lab-bfd.json):\n${figures.table()}\n`);
  }, 60_000);

  it('1. the defect: BGP up, FRR runs the GTSM session\'s BFD multihop (4784), bird single-hop (3784); neither comes up, the alert fires, and a frozen FRR is noticed at the hold timer', async () => {
    expect(await settled([V6.address]), 'both BGP sessions Established and the v6 BFD Up').toBe(true);
    await sleep(2000); // several BFD intervals: a session that could come up would have
    const frr = await frrBfd();
    const gtsm = frr.find((p) => p.peer === hostAddr.address)!;
    const plain = frr.find((p) => p.peer === hostAddr.address6)!;
    expect({ multihop: gtsm.multihop === true, status: gtsm.status }, 'FRR: the GTSM peer\'s BFD is multihop and down').toEqual({ multihop: true, status: 'down' });
    expect({ multihop: plain.multihop === true, status: plain.status }, 'FRR: the plain peer\'s BFD is single-hop and up').toEqual({ multihop: false, status: 'up' });
    const bird = await birdBfd(HOST);
    expect([bird[V4.address], bird[V6.address]], 'bird: transit1 Down, transit1-v6 Up').toEqual(['Down', 'Up']);
    expect(await labBfd(), 'lab status says so, from bird\'s control socket').toEqual([`${V4.name} Down`, `${V6.name} Up`]);
    const pkts = await bfdPackets(2);
    expect(pkts.hostToRouter3784, 'bird sends single-hop BFD (3784)').toBeGreaterThan(0);
    expect(pkts.routerToHost4784, 'FRR sends multihop BFD (4784)').toBeGreaterThan(0);
    expect([pkts.hostToRouter4784, pkts.routerToHost3784], 'neither sends what the other listens for').toEqual([0, 0]);
    figures.record('BFD interop, defect', 'UDP 3784 host->FRR / 4784 FRR->host in 2 s', 'packets', 'both > 0, no match', [pkts.hostToRouter3784, pkts.routerToHost4784]);

    const alert = await alertFor(t, await scrapeBird(), true);
    expect(alert.output, 'BfdSessionNotUp fires for transit1 (promtool on the scraped values)').toContain('SUCCESS');

    // A frozen FRR: transit1 goes only at the hold timer, transit1-v6 (BFD Up) at once.
    const [v4, v6] = await freezeAndTime([V4.address, V6.address], 15_000);
    expect(v4, 'transit1 dropped by the hold timer within 15 s').toBeDefined();
    expect(v4!, `transit1 waits for the hold timer (${ams.bgp.holdTimeSec} s), not BFD`).toBeGreaterThan(3000);
    expect(v6!, 'transit1-v6 dropped by its BFD (250 ms x 4)').toBeLessThan(3000);
    figures.record('BFD interop, defect', 'frozen FRR: transit1 (GTSM, BFD never up) dropped after', 'ms', `hold timer ${ams.bgp.holdTimeSec} s`, [v4!]);
    expect(await settled([V6.address]), 'sessions back after the thaw').toBe(true);
  }, 120_000);

  it('2. the fix, bfd.multihop on transit1: BFD Up, the alert silent, and each session detects a frozen FRR in about its own interval x multiplier', async () => {
    // What an operator does: render the fixed model, put ams's bird.conf in place, birdc configure.
    for (const h of ams.hosts.filter((x) => x.roles.includes('dns'))) {
      const site = fixed.sites.find((s) => s.id === 'ams')!;
      const conf = renderBird(fixed, site, site.hosts.find((x) => x.name === h.name)!)[0]!;
      expect(conf.content).toContain('\tmultihop 1;\n\tttl security on;\n');
      writeFileSync(join(labPaths.tree('ams', h.name), PATHS.birdConf), conf.content);
      expect((await hostBirdc(h.name, 'configure')).stdout, `birdc configure on ${h.name}`).toMatch(/Reconfigured|Reconfiguration in progress/);
    }
    expect(await settled([V4.address, V6.address]), 'both BFD sessions Up at ams-lb1').toBe(true);
    const frr = await frrBfd();
    const gtsm = frr.find((p) => p.peer === hostAddr.address)!;
    const plain = frr.find((p) => p.peer === hostAddr.address6)!;
    expect([gtsm.multihop, gtsm.status, gtsm['transmit-interval'], gtsm['detect-multiplier']], 'FRR: transit1 multihop, up, 100 ms x 3').toEqual([true, 'up', 100, 3]);
    expect([plain.status, plain['transmit-interval'], plain['detect-multiplier']], 'FRR: transit1-v6 up, 250 ms x 4').toEqual(['up', 250, 4]);
    const pkts = await bfdPackets(2);
    expect(pkts.hostToRouter4784, 'bird now sends multihop BFD (4784)').toBeGreaterThan(0);
    expect(pkts.hostToRouter3784, 'and no single-hop BFD to FRR').toBe(0);
    expect(await labBfd(), 'lab status: both Up').toEqual([`${V4.name} Up`, `${V6.name} Up`]);

    const alert = await alertFor(fixed, await scrapeBird(), false);
    expect(alert.output, 'BfdSessionNotUp silent once BFD is Up').toContain('SUCCESS');

    const v4: number[] = [];
    const v6: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      const [a, b] = await freezeAndTime([V4.address, V6.address], 15_000);
      expect(a, `trial ${trial}: transit1 dropped`).toBeDefined();
      expect(b, `trial ${trial}: transit1-v6 dropped`).toBeDefined();
      v4.push(a!);
      v6.push(b!);
      expect(await settled([V4.address, V6.address]), `trial ${trial}: sessions and BFD back`).toBe(true);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // About its own interval x multiplier (300 ms and 1000 ms), well short of the 9 s hold timer.
    expect(median(v4), 'transit1 (100 ms x 3) detects in well under a second').toBeLessThan(1000);
    expect(median(v6), 'transit1-v6 (250 ms x 4) detects in about a second').toBeLessThan(2500);
    expect(median(v6), 'transit1-v6 takes longer than transit1: its own timers').toBeGreaterThan(median(v4));
    figures.record('BFD per peer, FRR+GTSM fixed', 'frozen FRR: transit1 (multihop BFD 100 ms x 3) dropped after', 'ms', '~300 ms', v4);
    figures.record('BFD per peer, FRR+GTSM fixed', 'frozen FRR: transit1-v6 (BFD 250 ms x 4) dropped after', 'ms', '~1000 ms', v6);
  }, 180_000);
  it('3. graceful shutdown: a draining dns host\'s route gets local preference 0 at FRR, as at bird, so traffic leaves it before the withdrawal', async () => {
    const prefix = anycastFamilies(t).find((f) => f.family === 4)!.prefix;
    const before = await frrPath(prefix, hostAddr.address);
    expect(before, `FRR has ${prefix} from ${HOST}`).toMatchObject({ localPref: 100 });
    const t0 = Date.now();
    const draining = cli(['drain', `ams/${HOST}`, '--role', 'dns', '--apply', '--lab']);
    let undrain = false;
    try {
      const shut = await waitFor(async () => {
        const p = await frrPath(prefix, hostAddr.address);
        return p && p.localPref === 0 && !p.best ? Date.now() - t0 : undefined;
      }, WITHDRAW_AFTER_SEC * 1000, 100);
      expect(shut, `within the ${WITHDRAW_AFTER_SEC} s before the withdrawal, FRR lowers ${HOST}'s route to local preference 0 and prefers another`).toBeDefined();
      figures.record('graceful shutdown at FRR', `drain of ${HOST}'s dns: until FRR's route via it has local preference 0`, 'ms', 'reported', [shut!]);
      const d = await draining;
      undrain = true;
      expect(d.code, d.text).toBe(0);
      expect(await frrPath(prefix, hostAddr.address), 'withdrawn once the drain is done').toBeUndefined();
    } finally {
      await draining.catch(() => undefined);
      const u = await cli(['undrain', `ams/${HOST}`, '--role', 'dns', '--apply', '--lab']);
      if (undrain) expect(u.code, u.text).toBe(0);
    }
    const back = await waitFor(async () => ((await frrPath(prefix, hostAddr.address))?.localPref === 100 ? true : undefined), 30_000, 200);
    expect(back, `${HOST}'s route back at FRR at local preference 100 after the undrain`).toBe(true);
  }, 120_000);

  it('4. the machine: /var/tmp and /run/frr exactly as before, though FRR was killed mid-run', async () => {
    // SIGKILL leaves FRR's /var/tmp/frr/<daemon>.<pid> behind wherever it made one: in the lab's.
    signalAll('SIGKILL');
    await labDown();
    expect(changes(machineBefore!, snapshot(FRR_MACHINE))).toEqual([]);
  }, 60_000);
});
