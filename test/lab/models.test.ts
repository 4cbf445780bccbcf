// The lab runs every valid model: one lab of the shipped sites edited to hold four things that
// `validate` accepts and the lab once could not run (test/helpers/lab-models.ts), each shown
// working as it would in the world:
//
// - nyc's IPv4 upstream is a multihop carrier at 198.18.20.1, outside nyc's subnets: the lab
//   router owns that address (on lo) and the hosts reach it through their gateway; the sessions
//   are Established, and the anycast prefix is reachable from nyc's client through them.
// - sin (aws) has a second subnet, with both caches in it: each subnet is a segment of its own with
//   the VPC router at .1, and both caches serve, through haproxy and directly across the subnets.
// - ams prepends (bgp.prepend 1, and 1 more towards transit1): the lab router accepts and shows the
//   prepended path, and prefers nyc's shorter one, so even ams's client is answered by nyc.
// - ams's haproxy has the largest maxConn whose file limit this machine can give (up to 100,000):
//   it runs with that limit. One more connection is refused up front, before anything is created.
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed (by PID and
// namespace, lib/lab/down.ts) before and after, even when a test fails.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainPid } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { labNamespaces } from '../../lib/lab/network.ts';
import { LAB_IMAGE_COUNT } from '../../lib/lab/origin.ts';
import { NS_PREFIX, nsOf } from '../../lib/lab/plan.ts';
import { fileLimitFacts, nofileCeiling } from '../../lib/lab/preflight.ts';
import { dig, http } from '../../lib/lab/probe.ts';
import { LAB_DIR, labPaths } from '../../lib/lab/state.ts';
import { labUp } from '../../lib/lab/up.ts';
import { anycastFamilies, publishedVip } from '../../lib/model/facts.ts';
import { haproxyNofile } from '../../lib/render/units-lb.ts';
import { run } from '../../lib/run.ts';
import { missingBinary, missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { awsTwoSubnets, CARRIER, haproxyMaxConn, multihopCarrier, prepends, SECOND_SUBNET } from '../helpers/lab-models.ts';
import { loadEdited } from '../helpers/topology.ts';
import { labUpEdited } from './bring-up.ts';

const skip = missingRoot() ?? missingLabDaemon() ?? missingBinary('/usr/sbin/birdc', 'bird2');

/** The most open files the lab can give a daemon on this machine (lib/lab/preflight.ts). */
const CEILING = nofileCeiling(fileLimitFacts());
/** haproxy cannot start with fewer than 2 x maxConn + 1024 open files (lib/render/units-lb.ts). */
const fitting = (ceiling: number) => Math.floor((ceiling - 1024) / 2);
const MAX_CONN = Math.min(100_000, fitting(CEILING));

const edit = (x: Record<string, string>) => {
  multihopCarrier(x);
  awsTwoSubnets(x);
  prepends(x);
  haproxyMaxConn(x, MAX_CONN);
};
const t = loadEdited(edit);
const IMG = t.cdn.imageHost;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
const A4 = anycastFamilies(t).find((f) => f.group === 'a' && f.family === 4)!;
const A6 = anycastFamilies(t).find((f) => f.group === 'a' && f.family === 6)!;

/** birdc at a lab router. */
async function birdc(routerSite: string, ...args: string[]): Promise<string> {
  const r = await run('ip', ['netns', 'exec', nsOf.router(routerSite), 'birdc', '-s', join(labPaths.etc(`router-${routerSite}`), 'bird.ctl'), ...args], { timeoutMs: 5000 });
  expect(r.code, `birdc ${args.join(' ')} at router ${routerSite}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The routes of `show route all <prefix>`: protocol, whether best, and the AS path. */
async function routesAt(routerSite: string, prefix: string): Promise<{ proto: string; best: boolean; asPath: string }[]> {
  const out = await birdc(routerSite, 'show', 'route', 'all', prefix);
  const blocks = out.split(/\n(?=\S+\s+unicast|\s+unicast)/).filter((b) => /unicast \[/.test(b));
  return blocks.map((b) => ({
    proto: /unicast \[(\S+)/.exec(b)![1]!,
    best: /\] \* \(/.test(b),
    asPath: /BGP\.as_path: ?(.*)/.exec(b)?.[1]?.trim() ?? '',
  }));
}

/** The PIDs whose parent is `pid` (haproxy's workers under its master), from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe.skipIf(skip)('lab: a haproxy whose file limit this machine cannot give', () => {
  const tooMany = fitting(CEILING) + 1;
  it.skipIf(tooMany > 1_000_000)(`is refused up front with one line, before anything is created (maxConn ${tooMany}, needs ${2 * tooMany + 1024} open files, this machine gives ${CEILING})`, async () => {
    await labDown(); // a previous crashed run must not be what preflight reports
    try {
      // The directory is only recorded in the lab's state, which preflight's refusal never writes.
      const refused = await labUp(loadEdited((x) => haproxyMaxConn(x, tooMany)), join(tmpdir(), 'anycdn-lab-nofile-never-written')).then(
        () => undefined,
        (e: Error) => e.message,
      );
      const lines = refused?.split('\n') ?? [];
      expect(lines, 'lab up refused').toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^lab: haproxy on ams-lb1, ams-lb2 cannot start with fewer than ${2 * tooMany + 1024} open files, and this machine gives at most ${CEILING}: \\S`));
      expect(lines[1]).toBe('lab: one problem with this machine; nothing was created');
      expect(await labNamespaces(NS_PREFIX), 'no lab namespace').toEqual([]);
      expect(existsSync(LAB_DIR), `no ${LAB_DIR}`).toBe(false);
    } finally {
      await labDown();
    }
  });
});

describe.skipIf(skip)('lab: every valid model (a multihop carrier, an aws site with two subnets, prepends, a big haproxy)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await labUpEdited(t, 'models', edit);
  }, 180_000);

  afterAll(async () => {
    await labDown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a multihop carrier outside the subnets: its address is the router\'s, the sessions are up, the prefix is reachable through them', async () => {
    const addrs = await run('ip', ['-n', nsOf.router(CARRIER.site), '-br', 'addr', 'show', 'dev', 'lo'], { timeoutMs: 3000 });
    expect(addrs.stdout).toContain(`${CARRIER.address}/32`);
    const nyc = site(CARRIER.site);
    const dnsHosts = nyc.hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name);
    for (const h of dnsHosts) {
      // Not on any segment: the host reaches the carrier through its gateway, as a real one is.
      const r = await run('ip', ['-n', nsOf.host(h), 'route', 'get', CARRIER.address], { timeoutMs: 3000 });
      expect(r.stdout, `${h}'s route to the carrier`).toMatch(new RegExp(`^${CARRIER.address.replace(/\./g, '\\.')} via 198\\.51\\.100\\.65 dev eth0 `));
    }
    const protocols = await birdc(CARRIER.site, 'show', 'protocols');
    for (const h of dnsHosts) expect(protocols, `session ${h} - ${CARRIER.name}`).toMatch(new RegExp(`^site_${h.replace(/-/g, '_')}_${CARRIER.name}\\s+BGP\\s+---\\s+up\\s+\\S+\\s+Established`, 'm'));
    const routes = await routesAt(CARRIER.site, A4.prefix);
    expect(routes.find((r) => r.best), `best ${A4.prefix} at router nyc`).toMatchObject({ proto: expect.stringMatching(new RegExp(`^site_nyc_lb[12]_${CARRIER.name}$`)), asPath: String(t.cdn.bgp.originAsn) });
    const answer = await dig(nsOf.client('nyc'), A4.address, IMG);
    expect(answer, 'the nyc client is answered by nyc, through the carrier sessions').toMatchObject({ address: publishedVip(nyc), nsid: expect.stringMatching(/^nyc\//) });
  });

  it('an aws site with two subnets: each a segment with the VPC router at .1, and both caches in the second one serve', async () => {
    const sin = site(SECOND_SUBNET.site);
    for (const [cache, address] of Object.entries(SECOND_SUBNET.caches)) {
      const a = await run('ip', ['-n', nsOf.host(cache), '-br', '-4', 'addr', 'show', 'dev', 'ens5'], { timeoutMs: 3000 });
      expect(a.stdout, `${cache}'s address`).toContain(`${address}/24`);
      const r = await run('ip', ['-n', nsOf.host(cache), 'route', 'show', 'default'], { timeoutMs: 3000 });
      expect(r.stdout.trim(), `${cache}'s gateway`).toBe('default via 10.30.1.1 dev ens5');
    }
    // haproxy (in the VIP's subnet) checks both caches across the subnets and finds them up.
    const lb = sin.hosts.find((h) => h.roles.includes('lb'))!.name;
    const stats = await run('ip', ['netns', 'exec', nsOf.host(lb), 'curl', '-s', '--max-time', '3', 'http://127.0.0.1:8404/stats;csv'], { timeoutMs: 5000 });
    const status = (server: string) => stats.stdout.split('\n').find((l) => l.startsWith(`caches,${server},`))?.split(',')[17];
    expect(Object.keys(SECOND_SUBNET.caches).map((c) => [c, status(c)])).toEqual(Object.keys(SECOND_SUBNET.caches).map((c) => [c, 'UP']));
    // Each cache serves an image from the other subnet: a MISS (fetched through the shield at ams), then a HIT, byte for byte.
    const images = imageSet(LAB_IMAGE_COUNT);
    const tmp = mkdtempSync(join(tmpdir(), 'anycdn-models-'));
    try {
      for (const [i, [cache, address]] of Object.entries(SECOND_SUBNET.caches).entries()) {
        const image = images[10 + i]!;
        for (const want of ['MISS', 'HIT']) {
          const body = join(tmp, `${cache}-${want}`);
          const r = await run('ip', ['netns', 'exec', nsOf.host(lb), 'curl', '-s', '-D', '-', '-o', body, '--max-time', '5', '-H', `Host: ${IMG}`, `http://${address}/${image.name}`], { timeoutMs: 8000 });
          expect([/^HTTP\/[\d.]+ (\d{3})/m.exec(r.stdout)?.[1], /^x-served-by: (\S+)/im.exec(r.stdout)?.[1], /^x-cache-status: (\w+)/im.exec(r.stdout)?.[1]], `${cache} ${image.name}`).toEqual(['200', cache, want]);
          expect(createHash('sha256').update(readFileSync(body)).digest('hex')).toBe(createHash('sha256').update(image.data).digest('hex'));
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const vip = await http(nsOf.client('sin'), `http://${sin.vip.address}/${images[12]!.name}`, { host: IMG, timeoutSec: 5 });
    expect(vip.status, 'the sin VIP serves from its client').toBe(200);
  });

  it('prepends: the router accepts and shows the prepended paths, and prefers the shorter one, as BGP does in the world', async () => {
    const ams = site('ams');
    const nyc = site('nyc');
    const own = (n: number) => Array.from({ length: n }, () => String(t.cdn.bgp.originAsn)).join(' ');
    // IPv4: bgp.prepend 1 + transit1's prepend 1 + ams's own ASN; nyc's comes through its router (the carrier's ASN).
    const v4 = await routesAt('ams', A4.prefix);
    expect(v4.filter((r) => r.proto.startsWith('site_')).map((r) => [r.proto, r.asPath, r.best]).sort()).toEqual([
      ['site_ams_lb1_transit1', own(3), false],
      ['site_ams_lb2_transit1', own(3), false],
    ]);
    expect(v4.find((r) => r.best), `best ${A4.prefix} at router ams`).toMatchObject({ proto: 'core4_nyc', asPath: `${CARRIER.asn} ${t.cdn.bgp.originAsn}` });
    // IPv6: only bgp.prepend (transit1-v6 has none).
    const v6 = await routesAt('ams', A6.prefix);
    expect(v6.filter((r) => r.proto.startsWith('site_')).map((r) => [r.proto, r.asPath]).sort()).toEqual([
      ['site_ams_lb1_transit1_v6', own(2)],
      ['site_ams_lb2_transit1_v6', own(2)],
    ]);
    // So ams's own client is answered by nyc: the prepend made ams the less preferred site.
    expect(await dig(nsOf.client('ams'), A4.address, IMG)).toMatchObject({ address: publishedVip(nyc), nsid: expect.stringMatching(/^nyc\//) });
  });

  it(`haproxy with maxConn ${MAX_CONN} runs with its file limit`, async () => {
    const ams = site('ams');
    const lbs = ams.hosts.filter((h) => h.roles.includes('lb')).map((h) => h.name);
    // What the unit asks (LimitNOFILE=), or the most this machine gives when that is less.
    const given = Math.min(haproxyNofile(MAX_CONN), CEILING);
    for (const lb of lbs) {
      const master = mainPid(lb, 'haproxy');
      expect(master, `${lb}'s haproxy`).toBeDefined();
      const children = childrenOf(master!);
      expect(children.length, `${lb}'s haproxy workers`).toBeGreaterThan(0);
      for (const pid of [master!, ...children]) {
        const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
        const [soft, hard] = line.trim().split(/\s+/).slice(3, 5).map(Number);
        expect(hard, `${lb} haproxy ${pid}: hard limit`).toBe(given);
        // haproxy raised its own soft limit to what maxConn needs (2 per connection and a few more).
        expect(soft! >= 2 * MAX_CONN && soft! <= given, `${lb} haproxy ${pid}: soft limit ${soft} within ${2 * MAX_CONN}..${given}`).toBe(true);
      }
      const stats = await run('ip', ['netns', 'exec', nsOf.host(lb), 'curl', '-s', '--max-time', '3', 'http://127.0.0.1:8404/stats;csv'], { timeoutMs: 5000 });
      const header = stats.stdout.split('\n')[0]!.replace(/^# /, '').split(',');
      const frontend = stats.stdout.split('\n').find((l) => l.startsWith('images,FRONTEND,'))!.split(',');
      expect(frontend[header.indexOf('slim')], `${lb}: the VIP frontend's session limit`).toBe(String(MAX_CONN));
    }
    expect((await http(nsOf.client('ams'), `http://${ams.vip.address}${t.cdn.healthcheck.path}`, { host: IMG, timeoutSec: 3 })).status, 'the ams VIP serves').toBe(200);
  });
});
