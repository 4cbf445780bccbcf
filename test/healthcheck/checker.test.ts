// The health checker against fake servers on loopback: every state and transition, what it
// tells lo (through a recording `ip`) and bird (through a fake control socket), and that it
// starts a process only on a transition, never per probe.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import {
  addressBytes,
  answerMatches,
  canonicalIp,
  dnsAnswers,
  dnsQuery,
  drainScope,
  drainTarget,
  parseConfig,
  startChecker,
  target,
  Verdict,
} from '../../lib/healthcheck/main.ts';
import { FakeBird, FakeDns, FakeHttp, fakeIp, fakeKnotc } from './fakes.ts';

const VIP = '198.51.100.10';
const VIP6 = '2001:db8:a::10';
/** Two anycast prefixes, each probed at its own loopback address (its fake DNS server). */
const ANYCAST = [
  { name: 'a', addresses: ['127.0.0.1/32'], prefixes: ['192.0.2.0/24', '2001:db8:53::/48'] },
  { name: 'b', addresses: ['127.0.0.2/32'], prefixes: ['203.0.113.0/24'] },
];
const PREFIXES = ANYCAST.flatMap((g) => g.prefixes);
const SERVICE = ['addr replace 127.0.0.1/32 dev lo', 'addr replace 127.0.0.2/32 dev lo'];

/** What the checker did to each covering prefix on lo, in order: ['replace', 'del', ...]. */
function opsOn(batches: string[][], prefix: string): string[] {
  return batches.flat().flatMap((l) => (l.endsWith(` ${prefix} dev lo`) ? [l.split(' ')[1]!] : []));
}

/** Waits (bounded, 10 s) until `cond` holds; the message says what did not happen. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('DNS wire format', () => {
  it('reads back the answer of a response built for its own query', () => {
    const q = dnsQuery(0x1234, 'img.cdn.example.net', 1);
    expect(q.subarray(0, 2)).toEqual(Buffer.from([0x12, 0x34]));
    const response = Buffer.concat([Buffer.from([0x12, 0x34, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]), q.subarray(12), Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 10])]);
    expect(dnsAnswers(response, 0x1234, 1)).toEqual([VIP]);
  });

  it('refuses a response to another query, an error response, and a truncated one', () => {
    const q = dnsQuery(7, 'a.example', 1);
    const ok = Buffer.concat([Buffer.from([0, 7, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]), q.subarray(12), Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4])]);
    expect(dnsAnswers(ok, 8, 1)).toBeUndefined();
    const servfail = Buffer.from(ok);
    servfail[3] = 2;
    expect(dnsAnswers(servfail, 7, 1)).toBeUndefined();
    expect(dnsAnswers(ok.subarray(0, ok.length - 2), 7, 1)).toBeUndefined();
  });

  it('matches an answer in place: exactly one address of the type, one of the expected ones', () => {
    const q = dnsQuery(7, 'a.example', 1);
    const header = (answers: number) => Buffer.from([0, 7, 0x84, 0, 0, 1, 0, answers, 0, 0, 0, 0]);
    const rr = (bytes: number[], type = 1) => Buffer.from([0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, bytes.length, ...bytes]);
    const vip = [198, 51, 100, 10];
    const ok = Buffer.concat([header(1), q.subarray(12), rr(vip)]);
    const want = [addressBytes(VIP)];
    expect(answerMatches(ok, 7, 1, want)).toBe(true);
    expect(answerMatches(ok, 8, 1, want)).toBe(false);
    expect(answerMatches(ok, 7, 1, [addressBytes('198.51.100.11')])).toBe(false);
    expect(answerMatches(ok.subarray(0, ok.length - 2), 7, 1, want)).toBe(false);
    const servfail = Buffer.from(ok);
    servfail[3] = 2;
    expect(answerMatches(servfail, 7, 1, want)).toBe(false);
    // Two addresses are not this site's one answer, even when one of them is right.
    expect(answerMatches(Buffer.concat([header(2), q.subarray(12), rr(vip), rr([203, 0, 113, 99])]), 7, 1, want)).toBe(false);
    // Records of another type (a CNAME before the address) are skipped.
    expect(answerMatches(Buffer.concat([header(2), q.subarray(12), rr([1, 97, 0], 5), rr(vip)]), 7, 1, want)).toBe(true);
    const q6 = dnsQuery(9, 'a.example', 28);
    const six = Buffer.concat([Buffer.from([0, 9, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]), q6.subarray(12), rr([...addressBytes(VIP6)], 28)]);
    expect(answerMatches(six, 9, 28, [addressBytes('2001:DB8:A:0:0:0:0:10')])).toBe(true);
    expect(answerMatches(six, 9, 1, want)).toBe(false);
  });

  it('compares IPv6 answers in one spelling', () => {
    expect(canonicalIp('2001:db8::a')).toBe('2001:0db8:0000:0000:0000:0000:0000:000a');
    expect(canonicalIp('2001:DB8:0:0:0:0:0:A')).toBe(canonicalIp('2001:db8::a'));
    expect(canonicalIp(VIP)).toBe(VIP);
  });
});

describe('verdicts and what they announce', () => {
  it('rises after `rise` good probes and falls after `fall` bad ones', () => {
    const v = new Verdict(3, 2);
    expect([true, true, true, false, true, false, false].map((ok) => v.feed(ok))).toEqual([false, false, true, true, true, true, false]);
    const sick = new Verdict(3, 2);
    expect([false, false].map((ok) => (sick.feed(ok), sick.known))).toEqual([false, true]);
  });

  it('withdraws when DNS is down; depreferring or withdrawing on a sick image path is the policy', () => {
    expect([target(false, true, 'deprefer'), target(true, undefined, 'deprefer'), target(true, false, 'deprefer'), target(true, false, 'withdraw'), target(true, true, 'withdraw')]).toEqual([
      'withdrawn',
      'withdrawn',
      'depreferred',
      'withdrawn',
      'announced',
    ]);
  });

  it('drains: graceful shutdown while the route is out, then drained; never announces what was not', () => {
    expect([
      drainTarget('announced', 'announced', 'none'),
      drainTarget('announced', 'announced', 'draining'),
      drainTarget('depreferred', 'depreferred', 'draining'),
      drainTarget('announced', 'draining', 'done'),
      drainTarget('announced', 'withdrawn', 'draining'),
      drainTarget('withdrawn', 'draining', 'draining'),
      drainTarget('announced', 'drained', 'draining'),
    ]).toEqual(['announced', 'draining', 'draining', 'drained', 'drained', 'drained', 'drained']);
  });

  it('takes the drain from the model or the request file, a site drain before a host one', () => {
    expect([drainScope('none', undefined), drainScope('none', 'site\n'), drainScope('none', 'host\n'), drainScope('none', ''), drainScope('host', 'site'), drainScope('site', undefined)]).toEqual([
      undefined,
      'site',
      'host',
      'host',
      'site',
      'site',
    ]);
  });

  it('refuses a bad config with the field and the value', () => {
    const good = { intervalMs: 150, timeoutMs: 250, fall: 2, rise: 5, dns: { port: 53, name: 'img.example', expect: VIP }, http: { url: 'http://x/healthz' }, anycast: ANYCAST, onImagePathDown: 'deprefer' };
    expect(parseConfig(JSON.stringify(good)).rise).toBe(5);
    expect(() => parseConfig(JSON.stringify({ ...good, fall: 0 }))).toThrow('fall: must be a positive integer, got 0');
    expect(() => parseConfig(JSON.stringify({ ...good, dns: { ...good.dns, expect: 'nope' } }))).toThrow('dns.expect: must be an IPv4 address, got "nope"');
    expect(() => parseConfig(JSON.stringify({ ...good, dns: { ...good.dns, expect6: VIP } }))).toThrow('dns.expect6: must be an IPv6 address, got "198.51.100.10"');
    expect(() => parseConfig(JSON.stringify({ ...good, http: { ...good.http, url6: 'http://198.51.100.10/' } }))).toThrow('http.url6: must be an http://[IPv6]/ URL');
    expect(() => parseConfig(JSON.stringify({ ...good, anycast: ['192.0.2.53/32'] }))).toThrow('anycast: must be a non-empty list of {name, addresses, prefixes}');
    expect(() => parseConfig(JSON.stringify({ ...good, anycast: [{ ...ANYCAST[0], prefixes: ['192.0.2.0/24 dev eth0'] }] }))).toThrow('anycast: must be');
    expect(() => parseConfig(JSON.stringify({ ...good, onImagePathDown: 'ignore' }))).toThrow('onImagePathDown: must be "deprefer" or "withdraw", got "ignore"');
    const status = { address: '127.0.0.1', port: 8053, path: '/anycast' };
    expect(parseConfig(JSON.stringify({ ...good, status, metrics: { path: '/metrics', allowFrom: ['192.0.2.0/28', '2001:db8::/64'] } })).metrics?.allowFrom).toHaveLength(2);
    expect(() => parseConfig(JSON.stringify({ ...good, status, metrics: { path: '/metrics', allowFrom: ['192.0.2.0/33'] } }))).toThrow('metrics.allowFrom: must be a non-empty list of prefixes, got ["192.0.2.0/33"]');
    expect(() => parseConfig(JSON.stringify({ ...good, status, metrics: { path: '/anycast', allowFrom: ['192.0.2.0/28'] } }))).toThrow('metrics.path: must be an absolute URL path other than status.path, got "/anycast"');
    expect(() => parseConfig(JSON.stringify({ ...good, metrics: { path: '/metrics', allowFrom: ['192.0.2.0/28'] } }))).toThrow('metrics: must be absent without status');
    const drain = { requestFile: '/run/anycdn/drain', withdrawAfterSec: 60, drained: 'none' };
    expect(parseConfig(JSON.stringify({ ...good, drain })).drain).toEqual(drain);
    expect(() => parseConfig(JSON.stringify({ ...good, drain: { ...drain, drained: 'yes' } }))).toThrow('drain.drained: must be "site", "host" or "none", got "yes"');
    expect(() => parseConfig(JSON.stringify({ ...good, drain: { ...drain, fallback: 'nyc' } }))).toThrow('drain.fallback: must be an IP address, got "nyc"');
  });
});

describe('the checker against fake servers', () => {
  let dns: FakeDns;
  /** prefix b's server: same port, its own loopback address. */
  let dnsB: FakeDns;
  let web: FakeHttp;
  let bird: FakeBird;
  let ip: ReturnType<typeof fakeIp>;
  let checker: { stop(): Promise<void>; state(): string; groups(): Record<string, string>; reloadDrain(d: unknown): void } | undefined;
  const states: string[] = [];

  beforeEach(async () => {
    dns = new FakeDns(VIP);
    web = new FakeHttp();
    ip = fakeIp();
    bird = new FakeBird(join(ip.dir, 'bird.ctl'));
    await Promise.all([dns.start(), web.start(), bird.start()]);
    dnsB = new FakeDns(VIP, undefined, '127.0.0.2', dns.port);
    await dnsB.start();
    states.length = 0;
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    statusPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });

  afterEach(async () => {
    await checker?.stop();
    checker = undefined;
    await Promise.all([dns.stop(), dnsB.stop(), web.stop(), bird.stop()]);
    ip.cleanup();
  });

  let statusPort = 0;
  const status = async (path = '/anycast') => {
    const r = await fetch(`http://127.0.0.1:${statusPort}${path}`);
    return `${r.status} ${(await r.text()).trim()}`.trim();
  };

  function start(onImagePathDown: 'deprefer' | 'withdraw' = 'deprefer', { metricsFrom, drain }: { metricsFrom?: string[]; drain?: object } = {}) {
    const config = parseConfig(
      JSON.stringify({
        intervalMs: 20,
        // Generous: a loaded machine must not fail a healthy fake.
        timeoutMs: 1000,
        fall: 2,
        rise: 3,
        dns: { port: dns.port, name: 'img.cdn.example.net', expect: VIP },
        http: { url: `http://127.0.0.1:${web.port}/healthz` },
        anycast: ANYCAST,
        onImagePathDown,
        bird: { socket: bird.socket, stateFile: join(ip.dir, 'bird-deprefer.conf') },
        statusFile: join(ip.dir, 'state'),
        status: { address: '127.0.0.1', port: statusPort, path: '/anycast' },
        ...(metricsFrom ? { metrics: { path: '/metrics', allowFrom: metricsFrom } } : {}),
        ipCommand: ip.ip,
        ...(drain ? { drain } : {}),
      }),
    );
    checker = startChecker(config, { onState: (s: string) => states.push(s) });
    return checker;
  }
  const deprefer = () => readFileSync(join(ip.dir, 'bird-deprefer.conf'), 'utf8').split('\n')[1];
  const drainFlag = () => readFileSync(join(ip.dir, 'bird-deprefer.conf'), 'utf8').split('\n')[2];
  const FALLBACK = '198.51.100.74';
  /** A site drain with a fake knotc: the request file in the scratch dir, withdrawn after `sec`. */
  const drainWith = (sec: number, drained = 'none') => {
    const k = fakeKnotc(ip.dir);
    const requestFile = join(ip.dir, 'drain');
    const config = { requestFile, withdrawAfterSec: sec, drained, fallback: FALLBACK, knot: { knotc: k.knotc, conf: '/etc/knot/knot.conf', zone: 'cdn.example.net', name: 'img.cdn.example.net', ttlSec: 60 } };
    return { ...k, requestFile, config };
  };

  it('announces after rise good probes, over one HTTP connection, and starts one process for it', async () => {
    const c = start();
    await until('announced', () => c.state() === 'announced');
    const probesBefore = web.requests;
    await until('20 more probes', () => web.requests >= probesBefore + 20);
    expect(states).toEqual(['announced']);
    // The service addresses once at start, then each prefix once, when it rose.
    const [service, ...announced] = ip.batches();
    expect(service).toEqual(SERVICE);
    expect(announced.flat().sort()).toEqual(PREFIXES.map((p) => `addr replace ${p} dev lo`).sort());
    expect(web.connections).toBe(1);
    expect(dns.queries).toBeGreaterThanOrEqual(2 * (probesBefore + 20) - 2);
    expect(readFileSync(join(ip.dir, 'state'), 'utf8')).toBe('announced\n');
    expect(deprefer()).toBe('define ANYCAST_DEPREFER = 0;');
  });

  it('a sick image path deprefers (bird told over its socket), a healthy one announces plainly again', async () => {
    const c = start();
    await until('announced', () => c.state() === 'announced');
    await web.stop();
    web = new FakeHttp();
    await web.start(); // a new port: the old URL now refuses, as a dead haproxy would
    await until('depreferred', () => c.state() === 'depreferred');
    expect(deprefer()).toBe('define ANYCAST_DEPREFER = 1;');
    expect(bird.configures).toBe(2);
    // Still announced: lo was touched only for the first announcements.
    expect(ip.batches().flat()).toHaveLength(SERVICE.length + PREFIXES.length);
    expect(states).toEqual(['announced', 'depreferred']);
  });

  it('tells its state over HTTP: 200 only while announced plainly', async () => {
    const c = start();
    await until('status endpoint up', () => c.state() === 'withdrawn');
    await until('announced', () => c.state() === 'announced');
    expect(await status()).toBe('200 announced');
    expect(await status('/other')).toBe('404');
    web.mode = 'fail';
    await until('depreferred', () => c.state() === 'depreferred');
    expect(await status()).toBe('503 depreferred');
    dns.mode = 'silent';
    await until('withdrawn', () => c.state() === 'withdrawn');
    expect(await status()).toBe('503 withdrawn');
  });

  /** GET /metrics from a chosen loopback source address: status and body. */
  const scrape = (from: string) =>
    new Promise<string>((resolve, reject) => {
      const req = httpGet({ host: '127.0.0.1', port: statusPort, path: '/metrics', localAddress: from }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(`${res.statusCode} ${body}`.trim()));
      });
      req.on('error', reject);
    });
  const sample = (text: string) => text.split('\n').filter((l) => l.startsWith('anycdn_'));
  /** The five lines of a state family (`head` up to its last label), 1 for `state` only. */
  const stateLines = (head: string, state: string) =>
    ['announced', 'depreferred', 'withdrawn', 'draining', 'drained'].map((s) => `${head}state="${s}"} ${s === state ? 1 : 0}`);

  it('serves its state as Prometheus metrics, to monitoring.scrapeFrom only', async () => {
    const c = start('deprefer', { metricsFrom: ['127.0.0.2/32'] });
    await until('announced', () => c.state() === 'announced');
    expect(await scrape('127.0.0.1')).toBe('403');
    const announced = await scrape('127.0.0.2');
    expect(announced.startsWith('200 # HELP anycdn_anycast_state ')).toBe(true);
    expect(sample(announced)).toEqual([
      ...stateLines('anycdn_anycast_state{', 'announced'),
      ...stateLines('anycdn_anycast_prefix_state{prefix="a",', 'announced'),
      ...stateLines('anycdn_anycast_prefix_state{prefix="b",', 'announced'),
      'anycdn_healthcheck_up{probe="dns"} 1',
      'anycdn_healthcheck_up{probe="image_path"} 1',
      'anycdn_anycast_transitions_total 1',
    ]);
    web.mode = 'fail';
    await until('depreferred', () => c.state() === 'depreferred');
    expect(sample(await scrape('127.0.0.2'))).toEqual([
      ...stateLines('anycdn_anycast_state{', 'depreferred'),
      ...stateLines('anycdn_anycast_prefix_state{prefix="a",', 'depreferred'),
      ...stateLines('anycdn_anycast_prefix_state{prefix="b",', 'depreferred'),
      'anycdn_healthcheck_up{probe="dns"} 1',
      'anycdn_healthcheck_up{probe="image_path"} 0',
      'anycdn_anycast_transitions_total 2',
    ]);
    // The load balancers' endpoint stays open to everyone.
    expect(await status()).toBe('503 depreferred');
  });

  it('a 503 or a hanging health path is as bad as a refused one', async () => {
    const c = start();
    await until('announced', () => c.state() === 'announced');
    web.mode = 'fail';
    await until('depreferred on 503', () => c.state() === 'depreferred');
    web.mode = 'ok';
    await until('announced again', () => c.state() === 'announced');
    web.mode = 'hang';
    await until('depreferred on a hang', () => c.state() === 'depreferred');
    expect(states).toEqual(['announced', 'depreferred', 'announced', 'depreferred']);
  });

  it('withdraws when DNS dies, answers wrong or goes silent, and only after `fall` bad probes', async () => {
    for (const mode of ['wrong', 'silent'] as const) {
      const c = checker ?? start();
      await until(`announced before ${mode}`, () => c.state() === 'announced');
      dns.mode = mode;
      dnsB.mode = mode;
      await until(`withdrawn on ${mode}`, () => Object.values(c.groups()).every((s) => s === 'withdrawn'));
      dns.mode = 'ok';
      dnsB.mode = 'ok';
    }
    const c = checker!;
    await until('announced before dead', () => c.state() === 'announced');
    await Promise.all([dns.setMode('dead'), dnsB.setMode('dead')]);
    await until('withdrawn on dead', () => Object.values(c.groups()).every((s) => s === 'withdrawn'));
    expect(states).toEqual(['announced', 'withdrawn', 'announced', 'withdrawn', 'announced', 'withdrawn']);
    for (const p of PREFIXES) expect(opsOn(ip.batches(), p), p).toEqual(['replace', 'del', 'replace', 'del', 'replace', 'del']);
  });

  it('with onImagePathDown: withdraw, a sick image path withdraws', async () => {
    const c = start('withdraw');
    await until('announced', () => c.state() === 'announced');
    web.mode = 'fail';
    await until('withdrawn', () => c.state() === 'withdrawn');
    expect(bird.configures).toBe(1);
  });

  it('a site drain: Knot answers the fallback, graceful shutdown, withdrawn after the delay; undrain reverses it', async () => {
    const d = drainWith(1);
    const c = start('deprefer', { drain: d.config });
    await until('announced', () => c.state() === 'announced');
    writeFileSync(d.requestFile, 'site\n');
    await until('draining', () => c.state() === 'draining');
    const t0 = Date.now();
    // The drain applies to every prefix of the site.
    expect(Object.values(c.groups())).toEqual(ANYCAST.map(() => 'draining'));
    expect(d.calls()).toEqual([
      '-c /etc/knot/knot.conf zone-begin cdn.example.net',
      '-c /etc/knot/knot.conf zone-unset cdn.example.net img.cdn.example.net. A',
      `-c /etc/knot/knot.conf zone-set cdn.example.net img.cdn.example.net. 60 A ${FALLBACK}`,
      '-c /etc/knot/knot.conf zone-commit cdn.example.net',
    ]);
    expect([deprefer(), drainFlag()]).toEqual(['define ANYCAST_DEPREFER = 0;', 'define ANYCAST_DRAIN = 1;']);
    expect(await status()).toBe('503 draining');
    // The local Knot now answers with the fallback, as the real one would: DNS stays up.
    dns.answer = FALLBACK;
    await until('drained', () => c.state() === 'drained');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    // The service addresses at start, each prefix once when it rose, then every prefix of the site at once.
    const batches = ip.batches();
    expect(batches[0]).toEqual(SERVICE);
    expect(batches.slice(1, -1).flat().sort()).toEqual(PREFIXES.map((p) => `addr replace ${p} dev lo`).sort());
    expect(batches.at(-1)).toEqual(PREFIXES.map((p) => `addr del ${p} dev lo`));
    expect(await status()).toBe('503 drained');
    rmSync(d.requestFile);
    dns.answer = VIP;
    await until('announced again', () => c.state() === 'announced');
    expect(d.calls().at(-1)).toBe('-c /etc/knot/knot.conf zone-reload cdn.example.net');
    expect(drainFlag()).toBe('define ANYCAST_DRAIN = 0;');
    expect(states).toEqual(['announced', 'draining', 'drained', 'announced']);
  });

  it('exports the drain states, overall and per prefix, so alerts can tell a drain from a failure', async () => {
    const d = drainWith(1);
    const c = start('deprefer', { metricsFrom: ['127.0.0.2/32'], drain: d.config });
    await until('announced', () => c.state() === 'announced');
    writeFileSync(d.requestFile, 'site\n');
    await until('draining', () => c.state() === 'draining');
    const draining = sample(await scrape('127.0.0.2'));
    dns.answer = FALLBACK;
    await until('drained', () => c.state() === 'drained');
    const drained = sample(await scrape('127.0.0.2'));
    for (const [lines, state] of [[draining, 'draining'], [drained, 'drained']] as const) {
      expect(lines.slice(0, 15)).toEqual([
        ...stateLines('anycdn_anycast_state{', state),
        ...stateLines('anycdn_anycast_prefix_state{prefix="a",', state),
        ...stateLines('anycdn_anycast_prefix_state{prefix="b",', state),
      ]);
    }
    expect(drained.at(-1)).toBe('anycdn_anycast_transitions_total 3');
  });

  it('a host drain tags and withdraws this host only: Knot keeps answering this site\'s VIP', async () => {
    const d = drainWith(0);
    const c = start('deprefer', { drain: d.config });
    await until('announced', () => c.state() === 'announced');
    writeFileSync(d.requestFile, 'host\n');
    await until('drained', () => c.state() === 'drained');
    expect(d.calls()).toEqual([]);
  });

  it('a drain requested while withdrawn never announces; a request older than the delay found at start stays drained', async () => {
    const d = drainWith(30);
    writeFileSync(d.requestFile, 'site\n');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(d.requestFile, old, old);
    const c = start('deprefer', { drain: d.config });
    await until('drained', () => c.state() === 'drained');
    const probes = web.requests;
    await until('10 more probes', () => web.requests >= probes + 10);
    expect(states).toEqual(['drained']);
    // Only the service addresses, which carry no route: no prefix ever went on lo.
    expect(ip.batches().flat().filter((l) => l.startsWith('addr replace'))).toEqual(SERVICE);
  });

  it('a reload (SIGHUP) takes a model drain and the answer TTL: graceful shutdown first, Knot answers the fallback with the new TTL', async () => {
    const d = drainWith(30);
    const c = start('deprefer', { drain: d.config });
    await until('announced', () => c.state() === 'announced');
    c.reloadDrain({ ...d.config, drained: 'site', knot: { ...d.config.knot, ttlSec: 120 } });
    await until('draining', () => c.state() === 'draining');
    expect(drainFlag()).toBe('define ANYCAST_DRAIN = 1;');
    expect(d.calls()).toContain('-c /etc/knot/knot.conf zone-set cdn.example.net img.cdn.example.net. 120 A 198.51.100.74');
    expect(states).toEqual(['announced', 'draining']);
  });

  it('a model drain (drained in the config) found at start stays withdrawn', async () => {
    const d = drainWith(30, 'host');
    const c = start('deprefer', { drain: d.config });
    await until('drained', () => c.state() === 'drained');
    const probes = web.requests;
    await until('10 more probes', () => web.requests >= probes + 10);
    expect(states).toEqual(['drained']);
  });

  it('withdraws when stopped', async () => {
    const c = start();
    await until('announced', () => c.state() === 'announced');
    await c.stop();
    checker = undefined;
    expect(ip.batches().at(-1)).toEqual(PREFIXES.map((p) => `addr del ${p} dev lo`));
  });

  it('a failure at one prefix withdraws only that prefix; the overall state is the worst one', async () => {
    const c = start();
    await until('announced', () => c.state() === 'announced');
    dnsB.mode = 'silent';
    await until('b withdrawn', () => c.groups().b === 'withdrawn');
    expect(c.groups()).toEqual({ a: 'announced', b: 'withdrawn' });
    expect(ip.batches().at(-1)).toEqual(['addr del 203.0.113.0/24 dev lo']);
    expect(c.state()).toBe('withdrawn');
    expect(await status()).toBe('503 withdrawn');
    for (const p of ANYCAST[0]!.prefixes) expect(opsOn(ip.batches(), p), p).toEqual(['replace']);
    dnsB.mode = 'ok';
    await until('b back', () => c.state() === 'announced');
    expect(opsOn(ip.batches(), '203.0.113.0/24')).toEqual(['replace', 'del', 'replace']);
  });

  it('asks each service address from that address itself, so no other site can answer a probe', async () => {
    // 127.0.0.2 is this host's own, as a service address on lo is: the kernel would pick 127.0.0.1
    // as the source of an unbound socket. Bound to the service address, a probe reaches only a
    // server on this host (a withdrawn prefix's probe no longer follows the route to another site).
    const c = start();
    await until('announced', () => c.state() === 'announced');
    expect([...dns.sources]).toEqual(['127.0.0.1']);
    expect([...dnsB.sources]).toEqual(['127.0.0.2']);
  });

  it('prefixes that share a service address share its probes: one query per transport and type per round', async () => {
    const config = parseConfig(
      JSON.stringify({
        intervalMs: 20,
        timeoutMs: 1000,
        fall: 2,
        rise: 3,
        dns: { port: dns.port, name: 'img.cdn.example.net', expect: VIP },
        http: { url: `http://127.0.0.1:${web.port}/healthz` },
        anycast: [
          { name: 'a', addresses: ['127.0.0.1/32'], prefixes: ['192.0.2.0/24'] },
          { name: 'b', addresses: ['127.0.0.1/32'], prefixes: ['203.0.113.0/24'] },
        ],
        onImagePathDown: 'deprefer',
        ipCommand: ip.ip,
      }),
    );
    const c = startChecker(config);
    checker = c;
    await until('announced', () => c.state() === 'announced');
    const [q0, r0] = [dns.queries, web.requests];
    await until('20 more rounds', () => web.requests >= r0 + 20);
    const [queries, rounds] = [dns.queries - q0, web.requests - r0];
    // A over UDP and TCP once a round, whatever number of prefixes use the address (± a round in flight).
    expect(queries).toBeGreaterThanOrEqual(2 * (rounds - 1));
    expect(queries).toBeLessThanOrEqual(2 * (rounds + 1));
    await dns.setMode('dead');
    await until('both withdrawn', () => c.groups().a === 'withdrawn' && c.groups().b === 'withdrawn');
  });

  it('with an IPv6 VIP, asks for A and AAAA and probes the image path over both families', async () => {
    const dns6 = new FakeDns(VIP, VIP6, '127.0.0.3');
    const web6 = new FakeHttp('::1');
    await Promise.all([dns6.start(), web6.start()]);
    try {
      const config = parseConfig(
        JSON.stringify({
          intervalMs: 20,
          timeoutMs: 1000,
          fall: 2,
          rise: 3,
          dns: { port: dns6.port, name: 'img.cdn.example.net', expect: VIP, expect6: VIP6 },
          http: { url: `http://127.0.0.1:${web.port}/healthz`, url6: `http://[::1]:${web6.port}/healthz` },
          anycast: [{ name: 'a', addresses: ['127.0.0.3/32'], prefixes: ['192.0.2.0/24'] }],
          onImagePathDown: 'deprefer',
          ipCommand: ip.ip,
        }),
      );
      const c = startChecker(config);
      checker = c;
      await until('announced', () => c.state() === 'announced');
      const before = dns6.queries;
      await until('more probes', () => dns6.queries >= before + 8);
      expect(web6.requests).toBeGreaterThan(0);
      web6.mode = 'fail';
      await until('depreferred when only IPv6 fails', () => c.state() === 'depreferred');
      web6.mode = 'ok';
      await until('announced again', () => c.state() === 'announced');
      // An AAAA answer that is not the site's IPv6 VIP (the A answer still right) withdraws.
      dns6.answer6 = '2001:db8:a::99';
      await until('withdrawn', () => c.state() === 'withdrawn');
    } finally {
      await checker?.stop();
      checker = undefined;
      await Promise.all([dns6.stop(), web6.stop()]);
    }
  });
});
