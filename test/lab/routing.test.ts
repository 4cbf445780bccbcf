// The routing scenarios of the routable-anycast issue, on the shipped sites in network namespaces:
// an IPv6 client gets its site's AAAA over IPv6 anycast and fetches an image over IPv6; one name
// server prefix is withdrawn at one site while the other still answers there; the shipped routes
// are ROA-valid at every router, and a route whose origin the ROAs do not name is dropped. Each scenario undoes
// its change in `finally`, every wait is bounded, and the lab is torn down even when one fails.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { anycastGroups, publishedVip } from '../../lib/model/facts.ts';
import { canonical } from '../../lib/model/net.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { labDown } from '../../lib/lab/down.ts';
import { sleep } from '../../lib/lab/exec.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { LAB_IMAGE_COUNT } from '../../lib/lab/origin.ts';
import { nsOf, planLab } from '../../lib/lab/plan.ts';
import { dig } from '../../lib/lab/probe.ts';
import { routerBirdConf } from '../../lib/lab/router-bird.ts';
import { labPaths } from '../../lib/lab/state.ts';
import { roas } from '../../lib/render/routing.ts';
import { run } from '../../lib/run.ts';
import { missingBinary, missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { labUpReady } from './bring-up.ts';
import { Figures } from './figures.ts';

const skip =
  missingRoot() ??
  missingLabDaemon() ??
  [
    ['/usr/sbin/birdc', 'bird2'],
  ]
    .map(([b, p]) => missingBinary(b!, p!))
    .find(Boolean);

const t = loadTopology(SITES_DIR);
const plan = planLab(t);
const IMG = t.cdn.imageHost;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
const ams = site('ams');
const nyc = site('nyc');
const [A, B] = anycastGroups(t) as [ReturnType<typeof anycastGroups>[number], ReturnType<typeof anycastGroups>[number]];
const A4 = A.families.find((f) => f.family === 4)!;
const A6 = A.families.find((f) => f.family === 6)!;
const B4 = B.families.find((f) => f.family === 4)!;
const B6 = B.families.find((f) => f.family === 6)!;
const dnsHosts = (id: string) => site(id).hosts.filter((h) => h.roles.includes('dns'));
const figures = new Figures('lab-routing');

/** The next hops of `prefix` at a site's router (the kernel's view of bird's best route). */
async function via(routerSite: string, prefix: string): Promise<string[]> {
  const r = await run('ip', ['-n', nsOf.router(routerSite), ...(prefix.includes(':') ? ['-6'] : []), 'route', 'show', prefix], { timeoutMs: 3000 });
  return [...r.stdout.matchAll(/via (\S+)/g)].map((m) => canonical(m[1]!));
}

/** True when the router's route for `prefix` goes to one of the site's own dns hosts. */
async function viaOwnSite(routerSite: string, prefix: string): Promise<boolean> {
  const own = new Set(dnsHosts(routerSite).flatMap((h) => [h.address, ...(h.address6 ? [h.address6] : [])]).map(canonical));
  return (await via(routerSite, prefix)).some((a) => own.has(a));
}

/** Polls `cond` every 50 ms for at most `ms`; the elapsed time when it held, else undefined. */
async function within(ms: number, cond: () => Promise<boolean>): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await cond()) return Date.now() - t0;
    await sleep(50);
  }
  return undefined;
}

/**
 * Rewrites a router's bird.conf, has bird apply it (birdc configure in its namespace), and has it
 * run its import filters again over what the sessions hold (reload in), so a changed ROA table
 * re-validates routes already imported.
 */
/** The number a router's `birdc show route ... count` prints ("N of M routes for N networks"). */
async function routerBirdc(routerSite: string, ...args: string[]): Promise<number> {
  const dir = labPaths.etc(`router-${routerSite}`);
  const r = await run('ip', ['netns', 'exec', nsOf.router(routerSite), 'birdc', '-s', join(dir, 'bird.ctl'), ...args], { timeoutMs: 5000 });
  const m = /(\d+) of \d+ routes/.exec(r.stdout);
  if (!m) throw new Error(`router ${routerSite}: birdc ${args.join(' ')}: ${r.stdout.trim()} ${r.stderr.trim()}`);
  return Number(m[1]);
}

async function reconfigureRouter(routerSite: string, conf: string): Promise<void> {
  const dir = labPaths.etc(`router-${routerSite}`);
  writeFileSync(join(dir, 'bird.conf'), conf);
  const birdc = (...args: string[]) => run('ip', ['netns', 'exec', nsOf.router(routerSite), 'birdc', '-s', join(dir, 'bird.ctl'), ...args], { timeoutMs: 5000 });
  expect((await birdc('configure')).stdout, `birdc configure at router ${routerSite}`).toMatch(/Reconfigured|Reconfiguration in progress/);
  await sleep(200);
  expect((await birdc('reload', 'in', 'all')).code, `birdc reload in all at router ${routerSite}`).toBe(0);
}

describe.skipIf(skip)('lab: routable anycast, dual stack and route origins', () => {
  beforeAll(async () => {
    await labUpReady(t, SITES_DIR);
  }, 120_000);

  afterAll(async () => {
    await labDown();
    figures.write();
    console.log(`\nlab routing figures (also in test/.figures/lab-routing.json):\n${figures.table()}\n`);
  }, 60_000);

  it('routers carry the covering prefixes, not the service addresses', async () => {
    for (const s of [ams, nyc]) {
      for (const f of [...A.families, ...B.families]) expect(await viaOwnSite(s.id, f.prefix), `${f.prefix} at router ${s.id}`).toBe(true);
      expect(await via(s.id, `${A4.address}/32`), 'no /32 route').toEqual([]);
    }
  });

  it('IPv6: the nearby client gets its site AAAA from the IPv6 anycast address and fetches an image over IPv6', async () => {
    const image = imageSet(LAB_IMAGE_COUNT)[7]!;
    const tmp = mkdtempSync(join(tmpdir(), 'anycdn-v6-'));
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    const sha = createHash('sha256').update(image.data).digest('hex');
    for (const s of [ams, nyc]) {
      const client = nsOf.client(s.id);
      const answer = await dig(client, A6.address, IMG, 1000, 'AAAA');
      expect(answer.address && canonical(answer.address), `${s.id}: AAAA over IPv6 anycast`).toBe(canonical(s.vip.address6!));
      expect(answer.nsid).toMatch(new RegExp(`^${s.id}/`));
      const file = join(tmp, `${s.id}.png`);
      const r = await run('ip', ['netns', 'exec', client, 'curl', '-6', '-s', '-o', file, '-w', '%{http_code}', '--max-time', '5', '-H', `Host: ${IMG}`, `http://[${s.vip.address6}]/${image.name}`], { timeoutMs: 8000 });
      expect(r.stdout, `${s.id}: HTTP status over IPv6`).toBe('200');
      expect(createHash('sha256').update(readFileSync(file)).digest('hex'), `${s.id}: the image over IPv6, byte for byte`).toBe(sha);
    }
  }, 60_000);

  it('one name server prefix fails at one site: only it is withdrawn there, and the other still answers', async () => {
    const client = nsOf.client('ams');
    expect((await dig(client, B4.address, IMG)).address, 'ams answers ns2 before').toBe(publishedVip(ams));
    try {
      // Knot at ams stops being reachable at ns2's IPv6 service address, a failure of prefix b
      // alone. (Its IPv4 address stays reachable: with 203.0.113.0/24 on lo, the kernel treats the
      // whole announced /24 as local, while an IPv6 prefix on lo is only a route.)
      for (const h of dnsHosts('ams')) await run('ip', ['-n', nsOf.host(h.name), 'addr', 'del', `${B6.address}/128`, 'dev', 'lo'], { timeoutMs: 3000 });
      const gone = await within(10_000, async () => !(await viaOwnSite('ams', B4.prefix)));
      expect(gone, `${B4.prefix} left the ams router within 10 s`).toBeDefined();
      figures.record('prefix b withdrawn at ams', 'from its service address failing to the route leaving the ams router', 'ms', '< 2000', [gone!]);
      expect(await viaOwnSite('ams', A4.prefix), `${A4.prefix} still via ams`).toBe(true);
      expect(await viaOwnSite('ams', A6.prefix), `${A6.prefix} still via ams`).toBe(true);
      expect(await viaOwnSite('ams', B6.prefix), `${B6.prefix} left ams too`).toBe(false);
      expect((await dig(client, A4.address, IMG)).address, 'ns1 at ams still answers with ams').toBe(publishedVip(ams));
      expect((await dig(client, B4.address, IMG)).address, 'ns2 is answered by nyc now').toBe(publishedVip(nyc));
      // And it stays so: ams's checker asks only its own Knot, never nyc's over the route that is
      // left, so it does not take nyc's answer for its own health and announce b again (3 s is
      // several times `rise` probes plus a withdrawal).
      const flapped = await within(3000, async () => viaOwnSite('ams', B4.prefix));
      expect(flapped, `${B4.prefix} stays off the ams router while ams cannot serve it`).toBeUndefined();
    } finally {
      for (const h of dnsHosts('ams')) await run('ip', ['-n', nsOf.host(h.name), 'addr', 'replace', `${B6.address}/128`, 'dev', 'lo'], { timeoutMs: 3000 });
    }
    const back = await within(20_000, async () => (await dig(client, B4.address, IMG)).address === publishedVip(ams));
    expect(back, 'ams answers ns2 again within 20 s').toBeDefined();
  }, 60_000);

  it('route origin validation: the shipped routes are ROA-valid at every router; an origin the ROAs do not name is dropped', async () => {
    // Every router: each anycast route it holds is ROA-valid for its origin, and it filtered none.
    // Each count is one query, so a route that comes or goes between two of them changes nothing.
    for (const r of plan.routers) {
      for (const family of [4, 6] as const) {
        const table = ['show', 'route', 'table', `master${family}`];
        const all = await routerBirdc(r.site, ...table, 'where', `net ~ ANYCAST${family}`, 'count');
        const notValid = await routerBirdc(r.site, ...table, 'where', `net ~ ANYCAST${family} && roa_check(roas${family}, net, bgp_path.last) != ROA_VALID`, 'count');
        const filtered = await routerBirdc(r.site, ...table, 'filtered', 'where', `net ~ ANYCAST${family}`, 'count');
        expect(all, `router ${r.site} IPv${family}: anycast routes`).toBeGreaterThan(0);
        expect(notValid, `router ${r.site} IPv${family}: no anycast route that is not ROA-valid`).toBe(0);
        expect(filtered, `router ${r.site} IPv${family}: nothing dropped as invalid`).toBe(0);
        figures.record('RPKI: shipped routes', `router ${r.site} IPv${family}: anycast routes not ROA-valid`, 'routes', '0', [notValid], `${all} routes, ${filtered} filtered`);
      }
    }
    const router = plan.routers.find((r) => r.site === 'nyc')!;
    const client = nsOf.client('nyc');
    expect((await dig(client, A4.address, IMG)).address, 'nyc answers before').toBe(publishedVip(nyc));
    try {
      // The ROAs name another origin (a stale one, say): the nyc site's AS64496 is not in them.
      const stale = roas(t).map((r) => ({ ...r, asn: 65020 }));
      await reconfigureRouter('nyc', routerBirdConf(t, plan, router, stale));
      const gone = await within(10_000, async () => !(await viaOwnSite('nyc', A4.prefix)) && !(await viaOwnSite('nyc', A6.prefix)));
      expect(gone, 'the ROA-invalid nyc routes left its router within 10 s').toBeDefined();
      figures.record('ROA-invalid route dropped', `from the router reconfigured with ROAs naming AS65020 to the nyc route (origin AS${t.cdn.bgp.originAsn}) gone`, 'ms', '< 2000', [gone!]);
      const filtered = await routerBirdc('nyc', 'show', 'route', 'filtered', 'where', 'net ~ ANYCAST4 && roa_check(roas4, net, bgp_path.last) = ROA_INVALID', 'count');
      expect(filtered, 'the invalid routes are kept as filtered, ROA_INVALID').toBeGreaterThan(0);
      figures.record('RPKI: origin not in the ROAs', 'router nyc: IPv4 anycast routes filtered as ROA_INVALID', 'routes', '> 0', [filtered]);
      // One origin AS for every site: at a validator whose ROAs do not name it, every site's route
      // is invalid, so the nyc client reaches no name server at all (why the ROAs are filed first),
      // while the ams router, with the real ROAs, still serves its client.
      expect((await dig(client, A4.address, IMG)).address, 'the nyc client gets no answer through a router that drops every route as invalid').toBeUndefined();
      expect((await dig(nsOf.client('ams'), A4.address, IMG)).address, 'the ams client is still answered by ams').toBe(publishedVip(ams));
    } finally {
      await reconfigureRouter('nyc', routerBirdConf(t, plan, router));
    }
    const back = await within(20_000, async () => (await dig(client, A4.address, IMG)).address === publishedVip(nyc));
    expect(back, 'nyc answers again once its ROAs are back').toBeDefined();
  }, 90_000);
});
