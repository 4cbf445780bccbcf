// The health checker as the dns hosts run it: lib/healthcheck/anycdn-healthcheck.mjs, the bundle
// `npm run build` makes of lib/healthcheck/*.ts. It is checked in (render ships its text without a
// build), so it must be what its source builds to; it depends on nothing but Node; its source is
// held to Node 18 (Debian 12's nodejs); and the program itself reads its config, announces,
// reloads on SIGHUP and withdraws on SIGTERM. HEALTHCHECK_NODE=/path/to/node runs the program
// with another Node (the report of issue 26 ran it with Debian's 18.20.4 this way).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleHealthcheck, HEALTHCHECK_BUNDLE } from '../../bin/build.ts';
import { FakeBird, FakeDns, FakeHttp, fakeIp } from './fakes.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLE = join(ROOT, HEALTHCHECK_BUNDLE);
const NODE = process.env.HEALTHCHECK_NODE ?? process.execPath;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** A scratch directory inside the repository (where node_modules/@types resolves), removed after each test. */
const scratch: string[] = [];
afterEach(() => scratch.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function scratchDir(): string {
  const d = join(ROOT, 'test', `.build-healthcheck-${process.pid}-${scratch.length}`);
  mkdirSync(d, { recursive: true });
  scratch.push(d);
  return d;
}

describe('the bundle', () => {
  it('is what `npm run build` makes of lib/healthcheck/*.ts (else: run it and commit the file)', async () => {
    const built = await bundleHealthcheck();
    expect(readFileSync(BUNDLE, 'utf8') === built, `${HEALTHCHECK_BUNDLE} is stale: run \`npm run build\` and commit it`).toBe(true);
  });

  it('imports nothing but Node, and a build that would bundle a package fails', async () => {
    const imports = [...readFileSync(BUNDLE, 'utf8').matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !i?.startsWith('node:'))).toEqual([]);
    const d = scratchDir();
    writeFileSync(join(d, 'main.ts'), "import { parse } from 'yaml';\nexport const x = parse('a: 1');\n");
    await expect(bundleHealthcheck(`${d.slice(ROOT.length + 1)}/main.ts`)).rejects.toThrow(/must depend on nothing but Node: it bundles node_modules\/yaml\//);
  });

  it("type-checks against Node 18's API and ES2022, and a call Node 18 lacks fails the check", () => {
    const tsc = (project: string) => spawnSync(process.execPath, [TSC, '--noEmit', '-p', project], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    const ok = tsc('lib/healthcheck');
    expect(`${ok.stdout}${ok.stderr}`).toBe('');
    expect(ok.status).toBe(0);
    const d = scratchDir();
    writeFileSync(join(d, 'tsconfig.json'), JSON.stringify({ extends: '../../lib/healthcheck/tsconfig.json', include: ['*.ts'] }));
    writeFileSync(join(d, 'bad.ts'), 'export const sorted = [3, 1, 2].toSorted();\n');
    const bad = tsc(d);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toMatch(/bad\.ts\(1,\d+\): error TS2550: Property 'toSorted' does not exist on type 'number\[\]'/);
  });
});

describe('the program', () => {
  const run = (args: string[]) => spawnSync(NODE, [BUNDLE, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('--check-config: 0 for a good file, 1 with file:1:1 and the field for a bad one, 2 without a file', () => {
    const d = scratchDir();
    const good = { intervalMs: 150, timeoutMs: 250, fall: 2, rise: 5, dns: { port: 53, name: 'img.example', expect: '198.51.100.10' }, http: { url: 'http://x/healthz' }, anycast: [{ name: 'a', addresses: ['192.0.2.53/32'], prefixes: ['192.0.2.0/24'] }], onImagePathDown: 'deprefer' };
    writeFileSync(join(d, 'good.json'), JSON.stringify(good));
    writeFileSync(join(d, 'bad.json'), JSON.stringify({ ...good, fall: 0 }));
    expect([run(['--check-config', join(d, 'good.json')])].map((r) => [r.status, r.stderr])).toEqual([[0, '']]);
    expect([run(['--check-config', join(d, 'bad.json')])].map((r) => [r.status, r.stderr])).toEqual([[1, `${join(d, 'bad.json')}:1:1: fall: must be a positive integer, got 0\n`]]);
    expect([run([])].map((r) => [r.status, r.stderr])).toEqual([[2, 'usage: anycdn-healthcheck [--check-config] CONFIG.json\n']]);
  });

  describe('against fake servers', () => {
    let child: ChildProcess | undefined;
    const stops: (() => Promise<void>)[] = [];
    afterEach(async () => {
      child?.kill('SIGKILL');
      child = undefined;
      for (const stop of stops.splice(0)) await stop();
    });

    /** Waits (bounded, 20 s) until `cond` holds. */
    async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
      const end = Date.now() + 20_000;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`not within 20 s: ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    it('announces, takes a model drain on SIGHUP, and withdraws and exits 0 on SIGTERM', async () => {
      const dns = new FakeDns('198.51.100.10');
      const web = new FakeHttp();
      const ip = fakeIp();
      const bird = new FakeBird(join(ip.dir, 'bird.ctl'));
      await Promise.all([dns.start(), web.start(), bird.start()]);
      stops.push(() => dns.stop(), () => web.stop(), () => bird.stop(), async () => ip.cleanup());
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const statusPort = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const config = (drained: string) => ({
        intervalMs: 20,
        timeoutMs: 1000,
        fall: 2,
        rise: 3,
        dns: { port: dns.port, name: 'img.cdn.example.net', expect: '198.51.100.10' },
        http: { url: `http://127.0.0.1:${web.port}/healthz` },
        anycast: [{ name: 'a', addresses: ['127.0.0.1/32'], prefixes: ['192.0.2.0/24'] }],
        onImagePathDown: 'deprefer',
        bird: { socket: bird.socket, stateFile: join(ip.dir, 'bird-announce.conf') },
        drain: { requestFile: join(ip.dir, 'drain'), withdrawAfterSec: 0, drained },
        status: { address: '127.0.0.1', port: statusPort, path: '/anycast' },
        ipCommand: ip.ip,
      });
      const file = join(ip.dir, 'healthcheck.json');
      writeFileSync(file, JSON.stringify(config('none')));
      const c = spawn(NODE, [BUNDLE, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let log = '';
      c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
      const status = async () => {
        try {
          const r = await fetch(`http://127.0.0.1:${statusPort}/anycast`);
          return `${r.status} ${(await r.text()).trim()}`;
        } catch {
          return 'down';
        }
      };
      await until('announced', async () => (await status()) === '200 announced');
      expect(ip.batches()).toEqual([['addr replace 127.0.0.1/32 dev lo'], ['addr replace 192.0.2.0/24 dev lo']]);

      writeFileSync(file, JSON.stringify(config('host')));
      c.kill('SIGHUP');
      await until('drained', async () => (await status()) === '503 drained');
      writeFileSync(file, '{"broken": ');
      c.kill('SIGHUP');
      await until('the refused reload logged', () => log.includes('reload refused, running on: '));

      c.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(log.split('\n').map((l) => l.replace(/ \(dns .*\)$/, '').replace(/: started: .*/, ': started'))).toEqual([
        'anycdn-healthcheck: started',
        'anycdn-healthcheck: announce a: 192.0.2.0/24',
        'anycdn-healthcheck: drain (host) requested: graceful shutdown, withdrawn in 0 s',
        "anycdn-healthcheck: reloaded: drain settings and Knot's answer TTL taken; other changes need a restart",
        'anycdn-healthcheck: withdraw (drained) a: 192.0.2.0/24',
        `anycdn-healthcheck: reload refused, running on: ${file}:1:1: ${jsonError('{"broken": ')}`,
        '',
      ]);
      expect(ip.batches()).toEqual([['addr replace 127.0.0.1/32 dev lo'], ['addr replace 192.0.2.0/24 dev lo'], ['addr del 192.0.2.0/24 dev lo']]);
    });
  });
});

/** JSON.parse's own message for `text`, as the Node that runs the program words it. */
function jsonError(text: string): string {
  const r = spawnSync(NODE, ['-e', `try { JSON.parse(${JSON.stringify(text)}) } catch (e) { process.stdout.write(e.message) }`], { encoding: 'utf8' });
  return r.stdout;
}
