// Carrying out a drain plan against a stand-in host: its filesystem in a scratch dir (as the lab
// sees a host through /proc/<holder>/root) and a fake haproxy admin socket that records commands
// and answers `show stat`. The waits end exactly when the conditions they name hold.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan, waitPlan, type Executor } from '../../lib/drain/apply.ts';
import { currentSessions, streamsOn } from '../../lib/drain/haproxy-socket.ts';
import { planDrain } from '../../lib/drain/plan.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const t = loadTopology(SITES_DIR);
const STAT_HEAD = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,status';

/** A fake haproxy on <root>/run/haproxy/admin.sock: `set server` answers nothing (or an error), `show stat` the table. */
class FakeHaproxy {
  commands: string[] = [];
  sessions = 3;
  /** Requests in flight on the VIP frontend, as `show sess` lists them. */
  streams = 0;
  refuse = false;
  private server!: net.Server;
  constructor(readonly root: string) {}
  async start(): Promise<void> {
    mkdirSync(join(this.root, 'run/haproxy'), { recursive: true });
    this.server = net.createServer((c) => {
      c.on('data', (d) => {
        const cmd = d.toString().trim();
        this.commands.push(cmd);
        if (cmd === 'show sess') {
          const own = '0x1: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 age=0s\n';
          const req = (i: number) => `0x${i + 2}: proto=tcpv4 src=192.0.2.9:${40000 + i} fe=images be=caches srv=ams-cache1 ts=00 age=0s\n`;
          c.end(`${own}${Array.from({ length: this.streams }, (_, i) => req(i)).join('')}\n`);
        } else if (cmd === 'show stat') c.end(`${STAT_HEAD}\nimages,FRONTEND,,,0,5,8000,10,0,0,OPEN\ncaches,ams-cache1,0,0,${this.sessions},9,,100,0,0,UP\ncaches,BACKEND,0,0,${this.sessions},9,,100,0,0,UP\n\n`);
        else c.end(this.refuse ? 'No such server.\n\n' : '\n');
      });
    });
    await new Promise<void>((r) => this.server.listen(join(this.root, 'run/haproxy/admin.sock'), r));
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const roots: string[] = [];
const fakes: FakeHaproxy[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
  roots.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function hosts(names: string[], reachable = names): Promise<{ ex: Executor; fake: Record<string, FakeHaproxy>; root: Record<string, string>; nftRuns: [string, string][] }> {
  const root: Record<string, string> = {};
  const fake: Record<string, FakeHaproxy> = {};
  for (const n of names) {
    root[n] = mkdtempSync(join(tmpdir(), `anycdn-${n}-`));
    roots.push(root[n]!);
    fake[n] = new FakeHaproxy(root[n]!);
    fakes.push(fake[n]!);
    await fake[n]!.start();
  }
  const nftRuns: [string, string][] = [];
  const ex: Executor = {
    where: 'in the test',
    root: (h) => (reachable.includes(h) ? root[h] : undefined),
    hasAddress: async () => false,
    nft: async (h, script) => {
      nftRuns.push([h, script]);
      return { code: 0, stderr: '' };
    },
  };
  return { ex, fake, root, nftRuns };
}

describe('applying a plan', () => {
  it('an lb drain: new connections wait, new requests are refused, the VIP moves only once no request is in flight', async () => {
    const { ex, fake, root, nftRuns } = await hosts(['ams-lb1']);
    fake['ams-lb1']!.streams = 2;
    const vrrpDrain = join(root['ams-lb1']!, 'run/anycdn/vrrp-drain');
    const plan = planDrain(t, 'ams/ams-lb1', 'drain');
    const applying = applyPlan(plan, ex);
    await new Promise((r) => setTimeout(r, 300));
    // Two responses still under way: the SYN drop and the refusal are in place, the VIP has not moved.
    expect(nftRuns.map(([h, s]) => [h, s.match(/ip6? daddr \S+/g)])).toEqual([['ams-lb1', ['ip daddr 198.51.100.10', 'ip6 daddr 2001:db8:a::10']]]);
    expect(fake['ams-lb1']!.commands.filter((c) => c !== 'show sess')).toEqual(['add map /etc/haproxy/anycdn-drain.map lb-drain 1']);
    expect(existsSync(vrrpDrain)).toBe(false);
    fake['ams-lb1']!.streams = 0;
    const r = await applying;
    expect(r.failed).toEqual([]);
    expect(readFileSync(vrrpDrain, 'utf8')).toBe('1\n');
    expect(r.applied.map((s) => s.action.kind)).toEqual(['nft', 'haproxy', 'quiesce', 'write', 'write']);
    expect([...r.notes.values()]).toEqual([expect.stringMatching(/^no request in flight after \d+ ms$/)]);
    // Done once the VIP is gone (the fake host holds none) and no request is in flight.
    fake['ams-lb1']!.streams = 1;
    writeFileSync(join(root['ams-lb1']!, 'run/anycdn/healthcheck.state'), 'drained\n');
    expect((await waitPlan(plan, ex, 200)).pending).toEqual(["ams-lb1: no request in flight on haproxy's frontend images (show sess)"]);
    fake['ams-lb1']!.streams = 0;
    expect((await waitPlan(plan, ex, 1000)).ok).toBe(true);
  });

  it('an lb drain moves the VIP after at most 2 s even with responses still under way, and says so', async () => {
    const { ex, fake, root } = await hosts(['ams-lb1']);
    fake['ams-lb1']!.streams = 3;
    const r = await applyPlan(planDrain(t, 'ams/ams-lb1', 'drain'), ex);
    expect([...r.notes.values()]).toEqual([expect.stringMatching(/^3 requests still in flight after 2\d\d\d ms: cut when the VIP moves$/)]);
    expect(readFileSync(join(root['ams-lb1']!, 'run/anycdn/vrrp-drain'), 'utf8')).toBe('1\n');
  });

  it('an lb undrain: the SYN drop and the refusal end before keepalived may hold the VIP again', async () => {
    const { ex, fake, root, nftRuns } = await hosts(['ams-lb1']);
    const r = await applyPlan(planDrain(t, 'ams/ams-lb1', 'undrain'), ex);
    expect(r.failed).toEqual([]);
    expect(nftRuns).toEqual([['ams-lb1', 'add table inet anycdn_lb_drain; delete table inet anycdn_lb_drain']]);
    expect(fake['ams-lb1']!.commands).toEqual(['clear map /etc/haproxy/anycdn-drain.map']);
    expect(r.applied.map((s) => s.action.kind)).toEqual(['nft', 'haproxy', 'write', 'remove']);
    expect(readFileSync(join(root['ams-lb1']!, 'run/anycdn/vrrp-drain'), 'utf8')).toBe('0\n');
  });

  it('a failed nft is a failed step, with its first line', async () => {
    const { ex } = await hosts(['ams-lb1']);
    ex.nft = async () => ({ code: 1, stderr: 'Error: Could not process rule: No such file or directory\nmore\n' });
    const r = await applyPlan(planDrain(t, 'ams/ams-lb1', 'undrain'), ex);
    expect(r.failed.map((f) => [f.step.action.kind, f.error])).toEqual([['nft', 'nft: Error: Could not process rule: No such file or directory']]);
  });

  it('a cache drain: the command on each lb host\'s socket, done once no session is left', async () => {
    const { ex, fake } = await hosts(['ams-lb1', 'ams-lb2']);
    const plan = planDrain(t, 'ams/ams-cache1', 'drain');
    const r = await applyPlan(plan, ex);
    expect([r.applied.length, r.elsewhere, r.failed]).toEqual([2, [], []]);
    expect(fake['ams-lb1']!.commands).toEqual(['set server caches/ams-cache1 state drain']);
    const early = await waitPlan(plan, ex, 300);
    expect(early.ok).toBe(false);
    expect(early.pending).toEqual(['ams-lb1: no session left on caches/ams-cache1 (show stat: scur 0)', 'ams-lb2: no session left on caches/ams-cache1 (show stat: scur 0)']);
    setTimeout(() => Object.values(fake).forEach((f) => (f.sessions = 0)), 200);
    const w = await waitPlan(plan, ex, 5000);
    expect(w.ok).toBe(true);
    expect(w.ms).toBeGreaterThanOrEqual(150);
  });

  it('an error from haproxy is a failed step, with its words', async () => {
    const { ex, fake } = await hosts(['ams-lb1', 'ams-lb2']);
    fake['ams-lb2']!.refuse = true;
    const r = await applyPlan(planDrain(t, 'ams/ams-cache1', 'drain'), ex);
    expect(r.failed.map((f) => [f.step.host, f.error])).toEqual([['ams-lb2', 'haproxy: No such server.']]);
  });

  it('a site drain writes the request on each dns host, waits for the checkers; undrain removes it', async () => {
    const { ex, root } = await hosts(['ams-lb1', 'ams-lb2'], ['ams-lb1']);
    const plan = planDrain(t, 'ams', 'drain');
    const r = await applyPlan(plan, ex);
    expect(readFileSync(join(root['ams-lb1']!, 'run/anycdn/drain'), 'utf8')).toBe('site\n');
    // ams-lb2 is not reachable from here: its step is left for it, and not waited for.
    expect(r.elsewhere.map((s) => s.host)).toEqual(['ams-lb2']);
    writeFileSync(join(root['ams-lb1']!, 'run/anycdn/healthcheck.state'), 'draining\n');
    expect((await waitPlan(plan, ex, 200)).ok).toBe(false);
    writeFileSync(join(root['ams-lb1']!, 'run/anycdn/healthcheck.state'), 'drained\n');
    expect((await waitPlan(plan, ex, 2000)).ok).toBe(true);
    await applyPlan(planDrain(t, 'ams', 'undrain'), ex);
    expect(existsSync(join(root['ams-lb1']!, 'run/anycdn/drain'))).toBe(false);
  });
});

it('counts the requests in flight on a frontend from `show sess`, not the CLI\'s own session', () => {
  const sess = '0x1: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none>\n0x2: proto=tcpv4 src=192.0.2.9:4000 fe=images be=caches srv=ams-cache1\n0x3: proto=tcpv4 src=192.0.2.9:4001 fe=images be=<NONE> srv=<none>\n0x4: proto=tcpv4 fe=images2 be=x\n';
  expect([streamsOn(sess, 'images'), streamsOn(sess, 'stats'), streamsOn('', 'images')]).toEqual([2, 0, 0]);
});

it('reads current sessions from `show stat` by proxy and service name', () => {
  const stat = `${STAT_HEAD}\ncaches,ams-cache1,0,0,7,9,,100,0,0,DRAIN\ncaches,ams-cache2,0,0,0,9,,100,0,0,UP\n`;
  expect([currentSessions(stat, 'caches', 'ams-cache1'), currentSessions(stat, 'caches', 'ams-cache2'), currentSessions(stat, 'caches', 'nope'), currentSessions('garbage', 'a', 'b')]).toEqual([7, 0, undefined, undefined]);
});
