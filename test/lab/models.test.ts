// The lab runs every valid model: one lab of the shipped sites edited into the generated model of
// issue 30 §6 (test/helpers/lab-models.ts), everything `validate` accepts and the lab once could
// not run, each shown working as it would in the world:
//
// - nyc's IPv4 upstream is a multihop carrier at 198.18.20.1, outside nyc's subnets, 2 hops away:
//   the lab router owns that address (on lo), drops what reaches it with a TTL below 2 (the router
//   between, lib/lab/plan.ts hopFloors), and the hosts reach it through their gateway. The
//   sessions are Established with multihop 2 and no GTSM, their BFD is multihop and Up with the
//   model's timers, and with multihop 1 (too few hops) the session fails, its packets dropped.
// - nyc is written IPv6 first (IPv6 subnet and its directly connected IPv6 upstream first), so it is
//   the v6-first site: IPv6 direct, IPv4 over the multihop carrier. nyc-cache2 is drained.
// - sin (aws) has a second subnet, with both caches in it: each subnet is a segment of its own with
//   the VPC router at .1, and both caches serve, through haproxy and directly across the subnets.
//   sin is also the IPv4-only Squid site with a dedicated dns host (sin-dns1, roles [dns]).
// - ams prepends (bgp.prepend 1, and 1 more towards transit1): the lab router accepts and shows the
//   prepended path, and prefers nyc's shorter one, so even ams's client is answered by nyc.
// - the origins are two, in priority order, over HTTPS on port 8443: the lab's serve there only,
//   the primary serves the misses, and with the primary gone the second does.
// - ams's haproxy has the largest maxConn whose file limit this machine can give (up to 100,000):
//   it runs with that limit. One more connection is refused up front, before anything is created,
//   by the library and by the CLI.
//
// Every site then serves an image through its VIP as a MISS and then a HIT with the origin's
// bytes, and every client gets, from every anycast address, the DNS answer the model implies
// (lib/lab/nearest.ts).
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed (by PID and
// namespace, lib/lab/down.ts) before and after, even when a test fails.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkerState, mainPid, startOriginAgain, stopOrigin } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { waitFor } from '../../lib/lab/exec.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { nearestAnswers, nearestSites } from '../../lib/lab/nearest.ts';
import { HOP_TABLE, labNamespaces } from '../../lib/lab/network.ts';
import { LAB_IMAGE_COUNT, originFetchLog } from '../../lib/lab/origin.ts';
import { labOrigin, NS_PREFIX, nsOf, planLab } from '../../lib/lab/plan.ts';
import { fileLimitFacts, nofileCeiling } from '../../lib/lab/preflight.ts';
import { dig, http } from '../../lib/lab/probe.ts';
import { LAB_DIR, labPaths, readState } from '../../lib/lab/state.ts';
import { labUp } from '../../lib/lab/up.ts';
import { anycastFamilies, originTargets, publishedVip, publishedVip6 } from '../../lib/model/facts.ts';
import { renderBird } from '../../lib/render/bird.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { haproxyNofile } from '../../lib/render/units-lb.ts';
import { run } from '../../lib/run.ts';
import { missingBinary, missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { CARRIER, DRAINED_CACHE, everyModel, haproxyMaxConn, HTTPS_ORIGINS, IPV4_SQUID, SECOND_SUBNET } from '../helpers/lab-models.ts';
import { loadEdited, shippedTexts } from '../helpers/topology.ts';
import { labUpEdited } from './bring-up.ts';

const skip = missingRoot() ?? missingLabDaemon() ?? missingBinary('/usr/sbin/birdc', 'bird2') ?? missingBinary('/usr/sbin/nft', 'nftables');
const ROOT = join(import.meta.dirname, '..', '..');

/** The most open files the lab can give a daemon on this machine (lib/lab/preflight.ts). */
const CEILING = nofileCeiling(fileLimitFacts());
/** haproxy cannot start with fewer than 2 x maxConn + 1024 open files (lib/render/units-lb.ts). */
const fitting = (ceiling: number) => Math.floor((ceiling - 1024) / 2);
const MAX_CONN = Math.min(100_000, fitting(CEILING));

const edit = (x: Record<string, string>) => {
  everyModel(x);
  haproxyMaxConn(x, MAX_CONN);
};
const t = loadEdited(edit);
const plan = planLab(t);
const IMG = t.cdn.imageHost;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
const FAMILIES = anycastFamilies(t);
const A4 = FAMILIES.find((f) => f.group === 'a' && f.family === 4)!;
const A6 = FAMILIES.find((f) => f.group === 'a' && f.family === 6)!;
const images = imageSet(LAB_IMAGE_COUNT);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** birdc at a lab router. */
async function birdc(routerSite: string, ...args: string[]): Promise<string> {
  const r = await run('ip', ['netns', 'exec', nsOf.router(routerSite), 'birdc', '-s', join(labPaths.etc(`router-${routerSite}`), 'bird.ctl'), ...args], { timeoutMs: 5000 });
  expect(r.code, `birdc ${args.join(' ')} at router ${routerSite}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** birdc on a dns host, inside its view (its control socket is on the view's /run). */
async function hostBirdc(host: string, ...args: string[]): Promise<string> {
  const r = await run('nsenter', ['--target', String(readState()!.holders[host]!), '--mount', '--net', '--', 'birdc', '-s', PATHS.birdCtl, ...args], { timeoutMs: 5000 });
  expect(r.code, `birdc ${args.join(' ')} on ${host}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The state of each BGP protocol whose name matches `name` at a router (birdc show protocols). */
async function sessionStates(routerSite: string, name: RegExp): Promise<Record<string, string>> {
  const out = await birdc(routerSite, 'show', 'protocols');
  return Object.fromEntries([...out.matchAll(/^(\S+)\s+BGP\s+\S+\s+\S+\s+\S+\s+(\S+)/gm)].filter((m) => name.test(m[1]!)).map((m) => [m[1]!, m[2]!]));
}

/** The packets the router's hop floor has dropped (its nft counter). */
async function floorDrops(routerSite: string): Promise<number> {
  const r = await run('ip', ['netns', 'exec', nsOf.router(routerSite), 'nft', 'list', 'table', 'inet', HOP_TABLE], { timeoutMs: 3000 });
  expect(r.code, `nft list table at router ${routerSite}: ${r.stderr}`).toBe(0);
  return [...r.stdout.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
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

/** haproxy's stats CSV at an lb host: a server's column, by the header's name. */
async function haproxyStat(lb: string, backend: string, server: string, column: string): Promise<string | undefined> {
  const stats = await run('ip', ['netns', 'exec', nsOf.host(lb), 'curl', '-s', '--max-time', '3', 'http://127.0.0.1:8404/stats;csv'], { timeoutMs: 5000 });
  const lines = stats.stdout.split('\n');
  const header = lines[0]!.replace(/^# /, '').split(',');
  return lines.find((l) => l.startsWith(`${backend},${server},`))?.split(',')[header.indexOf(column)];
}

let fetches = 0;
/** An image through `url` from namespace `ns`: status, the cache's verdict and name, the body's digest. */
async function fetchImage(ns: string, url: string): Promise<{ status: number; cache: string; servedBy: string; sha: string }> {
  const body = join(LAB_DIR, `fetch-models-${process.pid}-${fetches++}`);
  const r = await run('ip', ['netns', 'exec', ns, 'curl', '-s', '-D', '-', '-o', body, '--max-time', '5', '-H', `Host: ${IMG}`, url], { timeoutMs: 8000 });
  const bodySha = existsSync(body) ? sha(readFileSync(body)) : '';
  rmSync(body, { force: true });
  return {
    status: Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(r.stdout)?.[1] ?? 0),
    cache: (/^x-cache-status: (\w+)/im.exec(r.stdout)?.[1] ?? '').toUpperCase(),
    servedBy: /^x-served-by: (\S+)/im.exec(r.stdout)?.[1] ?? '',
    sha: bodySha,
  };
}

/** The URIs a lab origin has served (its fetch log). */
const servedBy = (index: number) => (existsSync(originFetchLog(index)) ? readFileSync(originFetchLog(index), 'utf8').split('\n').map((l) => l.split(' ')[1]) : []);

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
  // The need, the limit, the machine's fix, and the model's: the field, and the most that fits.
  const problem = new RegExp(`^lab: haproxy on ams-lb1, ams-lb2 cannot start with fewer than ${2 * tooMany + 1024} open files, and this machine gives at most ${CEILING}: \\S.*, or lower haproxy\\.maxConn of site ams from ${tooMany} to ${fitting(CEILING)} in a copy of the model for the lab$`);

  it.skipIf(tooMany > 1_000_000)(`is refused up front with one line naming haproxy.maxConn, before anything is created (maxConn ${tooMany}, needs ${2 * tooMany + 1024} open files, this machine gives ${CEILING})`, async () => {
    await labDown(); // a previous crashed run must not be what preflight reports
    try {
      // The directory is only recorded in the lab's state, which preflight's refusal never writes.
      const refused = await labUp(loadEdited((x) => haproxyMaxConn(x, tooMany)), join(tmpdir(), 'anycdn-lab-nofile-never-written')).then(
        () => undefined,
        (e: Error) => e.message,
      );
      const lines = refused?.split('\n') ?? [];
      expect(lines, 'lab up refused').toHaveLength(2);
      expect(lines[0]).toMatch(problem);
      expect(lines[1]).toBe('lab: one problem with this machine; nothing was created');
      expect(await labNamespaces(NS_PREFIX), 'no lab namespace').toEqual([]);
      expect(existsSync(LAB_DIR), `no ${LAB_DIR}`).toBe(false);
    } finally {
      await labDown();
    }
  });

  it.skipIf(tooMany > 1_000_000)('`anycdn lab up` of that model says so and exits non-zero, before any namespace exists', async () => {
    await labDown();
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-lab-nofile-'));
    try {
      const texts = shippedTexts();
      haproxyMaxConn(texts, tooMany);
      for (const [file, text] of Object.entries(texts)) writeFileSync(join(dir, file.replace(/^sites\//, '')), text);
      // Bounded: a refusal that waited on anything would hit this timeout and fail the test.
      const r = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'anycdn.js'), 'lab', 'up', '--sites', dir], { cwd: dir, timeout: 30_000 }).then(
        (x) => ({ code: 0, ...x }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
      // The lab's lines (the CLI may say before them that it runs the TypeScript source).
      const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('lab: '));
      expect(lines, r.stderr).toHaveLength(2);
      expect(lines[0], r.stderr).toMatch(problem);
      expect(lines[1]).toBe('lab: one problem with this machine; nothing was created');
      expect(r.stderr).not.toMatch(/internal|Error:|\n\s+at /);
      expect(r.code).not.toBe(0);
      expect(await labNamespaces(NS_PREFIX), 'no lab namespace').toEqual([]);
      expect(existsSync(LAB_DIR), `no ${LAB_DIR}`).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await labDown();
    }
  });
});

describe.skipIf(skip)('lab: every valid model (a multihop carrier, a v6-first site, an aws site with two subnets and Squid and a dedicated dns host, prepends, a drained cache, HTTPS origins on 8443, a big haproxy)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await labUpEdited(t, 'models', edit);
  }, 180_000);

  afterAll(async () => {
    await labDown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const nyc = site(CARRIER.site);
  const nycDns = nyc.hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name);
  const carrierSession = (h: string) => `site_${h.replace(/-/g, '_')}_${CARRIER.name}`;

  it('a multihop carrier outside the subnets: its address is the router\'s, the sessions are up, the prefix is reachable through them', async () => {
    const addrs = await run('ip', ['-n', nsOf.router(CARRIER.site), '-br', 'addr', 'show', 'dev', 'lo'], { timeoutMs: 3000 });
    expect(addrs.stdout).toContain(`${CARRIER.address}/32`);
    for (const h of nycDns) {
      // Not on any segment: the host reaches the carrier through its gateway, as a real one is.
      const r = await run('ip', ['-n', nsOf.host(h), 'route', 'get', CARRIER.address], { timeoutMs: 3000 });
      expect(r.stdout, `${h}'s route to the carrier`).toMatch(new RegExp(`^${CARRIER.address.replace(/\./g, '\\.')} via 198\\.51\\.100\\.65 dev eth0 `));
    }
    expect(await sessionStates(CARRIER.site, new RegExp(`_${CARRIER.name}$`))).toEqual(Object.fromEntries(nycDns.map((h) => [carrierSession(h), 'Established'])));
    const routes = await routesAt(CARRIER.site, A4.prefix);
    expect(routes.find((r) => r.best), `best ${A4.prefix} at router nyc`).toMatchObject({ proto: expect.stringMatching(new RegExp(`^site_nyc_lb[12]_${CARRIER.name}$`)), asPath: String(t.cdn.bgp.originAsn) });
    const answer = await dig(nsOf.client('nyc'), A4.address, IMG);
    expect(answer, 'the nyc client is answered by nyc, through the carrier sessions').toMatchObject({ address: publishedVip(nyc), nsid: expect.stringMatching(/^nyc\//) });
  });

  it('the carrier is 2 hops away: with multihop 2 and no GTSM the sessions are up and their BFD is multihop and Up at the model\'s 100 ms x 3; with multihop 1 the session fails, its packets dropped a hop short', async () => {
    // The router sends to the hosts with TTL 2 (multihop 2): a host running GTSM would want 255
    // (RFC 5082) and drop every one, so Established sessions are GTSM off at the host's end too.
    const bfd = await birdc(CARRIER.site, 'show', 'bfd', 'sessions');
    for (const h of nyc.hosts.filter((x) => nycDns.includes(x.name))) {
      // Multihop BFD (RFC 5883) is bound to no interface: bird shows "---".
      expect(bfd, `BFD with ${h.name} at router nyc`).toMatch(new RegExp(`^${h.address.replace(/\./g, '\\.')}\\s+---\\s+Up\\s.*\\s0\\.100\\s+0\\.300\\s*$`, 'm'));
    }
    const host = nycDns[0]!;
    const conf = join(labPaths.tree(CARRIER.site, host), PATHS.birdConf);
    const rendered = renderBird(t, nyc, nyc.hosts.find((h) => h.name === host)!)[0]!.content;
    expect(readFileSync(conf, 'utf8'), `${host}'s bird.conf is the rendered one`).toBe(rendered);
    expect(rendered).toContain(`\tneighbor ${CARRIER.address} as ${CARRIER.asn};\n\tmultihop ${CARRIER.multihop};\n`);
    const short = rendered.replace(`\tmultihop ${CARRIER.multihop};\n`, '\tmultihop 1;\n');
    const before = await floorDrops(CARRIER.site);
    try {
      writeFileSync(conf, short);
      expect(await hostBirdc(host, 'configure')).toMatch(/Reconfigured|Reconfiguration in progress/);
      // One hop short: the host's packets reach the router with TTL 1 and die there, counted. Both
      // ends keep trying (SYNs from the host, SYN-ACKs to the router's SYNs), so the count climbs.
      const dropped = await waitFor(async () => {
        const n = await floorDrops(CARRIER.site);
        return n >= before + 3 ? n : undefined;
      }, 15_000, 250);
      expect(dropped, `the hop floor dropped 3 packets of ${host} within 15 s (it had ${before})`).toBeDefined();
      const states = await sessionStates(CARRIER.site, new RegExp(`^${carrierSession(host)}$`));
      expect(states[carrierSession(host)], `${host}'s carrier session with multihop 1`).not.toBe('Established');
    } finally {
      writeFileSync(conf, rendered);
      await hostBirdc(host, 'configure');
    }
    const back = await waitFor(async () => ((await sessionStates(CARRIER.site, new RegExp(`^${carrierSession(host)}$`)))[carrierSession(host)] === 'Established' ? true : undefined), 30_000, 250);
    expect(back, `${host}'s carrier session is Established again with multihop ${CARRIER.multihop}`).toBe(true);
  }, 60_000);

  it('an aws site with two subnets: each a segment with the VPC router at .1, and both caches in the second one serve', async () => {
    const sin = site(SECOND_SUBNET.site);
    for (const [cache, address] of Object.entries(SECOND_SUBNET.caches)) {
      const a = await run('ip', ['-n', nsOf.host(cache), '-br', '-4', 'addr', 'show', 'dev', 'ens5'], { timeoutMs: 3000 });
      expect(a.stdout, `${cache}'s address`).toContain(`${address}/24`);
      const r = await run('ip', ['-n', nsOf.host(cache), 'route', 'show', 'default'], { timeoutMs: 3000 });
      expect(r.stdout.trim(), `${cache}'s gateway`).toBe('default via 10.30.1.1 dev ens5');
    }
    // haproxy (in the VIP's subnet) checks both caches across the subnets and finds them up.
    const lb = IPV4_SQUID.lbs[0]!;
    const status = await Promise.all(Object.keys(SECOND_SUBNET.caches).map(async (c) => [c, await haproxyStat(lb, 'caches', c, 'status')]));
    expect(status).toEqual(Object.keys(SECOND_SUBNET.caches).map((c) => [c, 'UP']));
    // Each cache serves an image from the other subnet: a MISS (fetched through the shield at ams), then a HIT, byte for byte.
    for (const [i, [cache, address]] of Object.entries(SECOND_SUBNET.caches).entries()) {
      const image = images[10 + i]!;
      for (const want of ['MISS', 'HIT']) {
        const r = await fetchImage(nsOf.host(lb), `http://${address}/${image.name}`);
        expect([r.status, r.servedBy, r.cache, r.sha], `${cache} ${image.name}`).toEqual([200, cache, want, sha(image.data)]);
      }
    }
    const vip = await http(nsOf.client('sin'), `http://${sin.vip.address}/${images[12]!.name}`, { host: IMG, timeoutSec: 5 });
    expect(vip.status, 'the sin VIP serves from its client').toBe(200);
  });

  it('sin is IPv4 only, Squid, with a dedicated dns host: sin-dns1 runs Knot and its checker (no bird: Global Accelerator announces an aws site) and no haproxy, announces, and answers with sin\'s VIP', async () => {
    const sin = site(IPV4_SQUID.site);
    expect(sin.hosts.some((h) => h.address6) || Object.values(sin.subnets).some((p) => p.includes(':'))).toBe(false);
    expect(sin.hosts.filter((h) => h.roles.includes('cache')).map((h) => h.cacheEngine)).toEqual(['squid', 'squid']);
    expect(sin.hosts.filter((h) => h.roles.includes('dns')).map((h) => [h.name, h.roles])).toEqual([[IPV4_SQUID.dns, ['dns']]]);
    const running = (unit: string) => mainPid(IPV4_SQUID.dns, unit) !== undefined;
    expect(['knot', 'anycdn-healthcheck', 'bird', 'haproxy', 'keepalived'].map((u) => [u, running(u)]), `${IPV4_SQUID.dns}'s units`).toEqual([
      ['knot', true],
      ['anycdn-healthcheck', true],
      ['bird', false],
      ['haproxy', false],
      ['keepalived', false],
    ]);
    expect(checkerState(IPV4_SQUID.dns), `${IPV4_SQUID.dns}'s health checker`).toBe('announced');
    for (const lb of IPV4_SQUID.lbs) expect(mainPid(lb, 'knot'), `${lb} runs no Knot`).toBeUndefined();
    // Asked on its own address from the sin client: the published VIP of sin (its Elastic IP).
    expect(await dig(nsOf.client('sin'), IPV4_SQUID.address, IMG)).toEqual({ address: publishedVip(sin), nsid: `sin/${IPV4_SQUID.dns}` });
  });

  it('prepends: the router accepts and shows the prepended paths, and prefers the shorter one, as BGP does in the world', async () => {
    const own = (n: number) => Array.from({ length: n }, () => String(t.cdn.bgp.originAsn)).join(' ');
    // IPv4: bgp.prepend 1 + transit1's prepend 1 + ams's own ASN; nyc's comes through its router (the router's core ASN).
    const v4 = await routesAt('ams', A4.prefix);
    expect(v4.filter((r) => r.proto.startsWith('site_')).map((r) => [r.proto, r.asPath, r.best]).sort()).toEqual([
      ['site_ams_lb1_transit1', own(3), false],
      ['site_ams_lb2_transit1', own(3), false],
    ]);
    const nycRouter = plan.routers.find((r) => r.site === 'nyc')!;
    expect(v4.find((r) => r.best), `best ${A4.prefix} at router ams`).toMatchObject({ proto: 'core4_nyc', asPath: `${nycRouter.coreAsn} ${t.cdn.bgp.originAsn}` });
    // IPv6: only bgp.prepend (transit1-v6 has none).
    const v6 = await routesAt('ams', A6.prefix);
    expect(v6.filter((r) => r.proto.startsWith('site_')).map((r) => [r.proto, r.asPath]).sort()).toEqual([
      ['site_ams_lb1_transit1_v6', own(2)],
      ['site_ams_lb2_transit1_v6', own(2)],
    ]);
    // So ams's own client is answered by nyc: the prepend made ams the less preferred site.
    expect(await dig(nsOf.client('ams'), A4.address, IMG)).toMatchObject({ address: publishedVip(nyc), nsid: expect.stringMatching(/^nyc\//) });
  });

  it('every client gets, from every anycast address, the answer the model implies: the nearest sites\' VIPs (A, and AAAA where they have one)', async () => {
    const rows: string[] = [];
    for (const family of FAMILIES) {
      const sites = nearestSites(t, plan, family);
      const answers = nearestAnswers(t, plan, family);
      for (const c of plan.clients) {
        const want = answers.get(c.site) ?? [];
        expect(want.length, `the model sends ${c.site}'s ${family.group}/IPv${family.family} queries somewhere`).toBeGreaterThan(0);
        const a = await dig(c.ns, family.address, IMG);
        expect(want, `${c.site} client @${family.address} A: ${a.address} from ${a.nsid}`).toContain(a.address);
        expect(sites.get(c.site), `${c.site} client @${family.address}: answered by ${a.nsid}`).toContain(a.nsid?.split('/')[0]);
        const want6 = sites.get(c.site)!.map((id) => publishedVip6(site(id)));
        if (want6.every((v) => v !== undefined)) {
          const aaaa = await dig(c.ns, family.address, IMG, 1000, 'AAAA');
          expect(want6, `${c.site} client @${family.address} AAAA: ${aaaa.address}`).toContain(aaaa.address);
        }
        rows.push(`${c.site}@${family.address}=${a.address}(${a.nsid})`);
      }
    }
    console.log(`DNS answers: ${rows.join(' ')}`);
  });

  it('a drained cache: weight 0 in haproxy, and its site serves every image from the other', async () => {
    const lbs = nyc.hosts.filter((h) => h.roles.includes('lb')).map((h) => h.name);
    for (const lb of lbs) {
      expect([await haproxyStat(lb, 'caches', DRAINED_CACHE.host, 'weight'), Number(await haproxyStat(lb, 'caches', DRAINED_CACHE.serving, 'weight')) > 0], `${lb}'s view of nyc's caches`).toEqual(['0', true]);
    }
    for (const image of images.slice(20, 26)) {
      const r = await fetchImage(nsOf.client('nyc'), `http://${nyc.vip.address}/${image.name}`);
      expect([r.status, r.servedBy, r.sha], image.name).toEqual([200, DRAINED_CACHE.serving, sha(image.data)]);
    }
  });

  it('the origins in priority order over HTTPS on 8443: the lab\'s serve only there, with TLS; the primary serves misses, and with it gone the second does', async () => {
    expect(originTargets(t).map((o) => [o.host, o.port, o.tls])).toEqual(HTTPS_ORIGINS.map((u) => [new URL(u).hostname, 8443, true]));
    for (const i of [0, 1]) {
      const at = labOrigin(i);
      const img = images[3]!;
      // Verified as the caches verify it: the origin's name, signed by the lab CA.
      const name = new URL(HTTPS_ORIGINS[i]!).hostname;
      const tls = await run('ip', ['netns', 'exec', nsOf.client('ams'), 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '--max-time', '2', '--cacert', join(labPaths.originDir(0), 'ca-bundle.crt'), '--resolve', `${name}:8443:${at.v4}`, `https://${name}:8443/${img.name}`], { timeoutMs: 4000 });
      expect(tls.stdout, `origin ${i + 1} over TLS on 8443`).toBe(`200 ${img.data.length}`);
      expect((await http(nsOf.client('ams'), `http://${at.v4}:8443/${img.name}`, { timeoutSec: 2 })).status, `origin ${i + 1}: plain HTTP on 8443`).toBe(400);
      for (const port of [80, 443]) expect((await http(nsOf.client('ams'), `http://${at.v4}:${port}/${img.name}`, { timeoutSec: 1 })).status, `origin ${i + 1} on ${port}`).toBe(0);
    }
    const ams = site('ams');
    const first = images[30]!;
    const r1 = await fetchImage(nsOf.client('ams'), `http://${ams.vip.address}/${first.name}`);
    expect([r1.status, r1.cache, r1.sha]).toEqual([200, 'MISS', sha(first.data)]);
    expect([servedBy(0).includes(`/${first.name}`), servedBy(1).includes(`/${first.name}`)], 'the primary served the miss, the second did not').toEqual([true, false]);
    await stopOrigin(0);
    try {
      const second = images[31]!;
      const r2 = await fetchImage(nsOf.client('ams'), `http://${ams.vip.address}/${second.name}`);
      expect([r2.status, r2.cache, r2.sha], 'a miss with the primary gone').toEqual([200, 'MISS', sha(second.data)]);
      expect([servedBy(0).includes(`/${second.name}`), servedBy(1).includes(`/${second.name}`)], 'the second origin served it').toEqual([false, true]);
    } finally {
      await startOriginAgain(0);
    }
  }, 60_000);

  it.each(['ams', 'nyc', 'sin'])('%s serves an image through its VIP as a MISS, then a HIT, with the origin\'s bytes', async (id) => {
    const img = images[{ ams: 40, nyc: 41, sin: 42 }[id]!]!;
    const url = `http://${site(id).vip.address}/${img.name}`;
    const first = await fetchImage(nsOf.client(id), url);
    const second = await fetchImage(nsOf.client(id), url);
    expect([first.status, first.cache, second.status, second.cache]).toEqual([200, 'MISS', 200, 'HIT']);
    expect([first.sha, second.sha]).toEqual([sha(img.data), sha(img.data)]);
  }, 30_000);

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
      expect(await haproxyStat(lb, 'images', 'FRONTEND', 'slim'), `${lb}: the VIP frontend's session limit`).toBe(String(MAX_CONN));
    }
    expect((await http(nsOf.client('ams'), `http://${ams.vip.address}${t.cdn.healthcheck.path}`, { host: IMG, timeoutSec: 3 })).status, 'the ams VIP serves').toBe(200);
  });
});
