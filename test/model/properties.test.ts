// Property tests. (a) Whatever text the loader gets, it returns a Topology or throws InputError
// with well-formed diagnostics, never any other exception. (b) For generated valid topologies,
// rendering is deterministic and every file is clean text; (c) the real checkers accept them.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { checkHosts } from '../../lib/check/run.ts';
import { InputError, formatDiagnostic } from '../../lib/model/errors.ts';
import { loadTexts } from '../../lib/model/load.ts';
import { renderPlans, renderTopology } from '../../lib/render/index.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { edit, inputs, shipped, type Texts } from './fixtures.ts';
import { pathProblem } from '../../lib/model/paths.ts';
import { posix } from 'node:path';
import { SAFE_TEXT } from '../../lib/model/text.ts';
import { quote as birdQuote } from '../../lib/render/syntax/bird.ts';
import { quote as haproxyQuote } from '../../lib/render/syntax/haproxy.ts';
import { quote as keepalivedQuote } from '../../lib/render/syntax/keepalived.ts';
import { quote as knotQuote } from '../../lib/render/syntax/knot.ts';
import { quote as nginxQuote } from '../../lib/render/syntax/nginx.ts';
import { shQuote } from '../../lib/render/syntax/shell.ts';
import { emitUnit } from '../../lib/render/syntax/unit.ts';

const S = shipped();
const FILES = Object.keys(S);

/** Load and classify: 'ok', or the diagnostics of an InputError. Anything else is rethrown. */
function outcome(texts: Texts): 'ok' | string[] {
  try {
    loadTexts(inputs(texts));
    return 'ok';
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    for (const d of e.diagnostics) {
      const line = formatDiagnostic(d);
      expect(Number.isInteger(d.line) && d.line >= 1, line).toBe(true);
      expect(Number.isInteger(d.col) && d.col >= 1, line).toBe(true);
      expect(d.file.length, line).toBeGreaterThan(0);
      expect(d.message.trim().length, line).toBeGreaterThan(0);
      expect(d.message, line).not.toMatch(/\n|\bat .+:\d+:\d+\)?$|Error:/);
    }
    expect(e.diagnostics.length, 'an InputError names at least one problem').toBeGreaterThan(0);
    return e.diagnostics.map(formatDiagnostic);
  }
}

// ---------------------------------------------------------------- (a) garbage in, diagnostics out

const yamlish = fc.constantFrom(
  ':', '- ', '? ', '&a ', '*a', '*b', '!!binary ', '!!str ', '!foo ', '[', ']', '{', '}', ',', '#', '|', '>', '"', "'", '\\', '\t', '\n', '\r\n',
  '---\n', '...\n', '%YAML 1.2\n', '<<: ', '__proto__: ', '.nan', '.inf', '0x1f', '1e400', '~', 'null', 'true', ' ', '  ', '\u0000', '\ufeff', '\u2028', '😀',
);
const junk = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.array(yamlish, { maxLength: 8 }).map((a) => a.join('')));

type Mutation = { kind: 'insert' | 'delete' | 'replace'; at: number; length: number; text: string } | { kind: 'dupLine' | 'dropLine' | 'indent'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('insert' as const, 'delete' as const, 'replace' as const), at: fc.nat(), length: fc.nat({ max: 30 }), text: junk }),
  fc.record({ kind: fc.constantFrom('dupLine' as const, 'dropLine' as const, 'indent' as const), at: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  if (m.kind === 'insert' || m.kind === 'delete' || m.kind === 'replace') {
    const at = text.length === 0 ? 0 : m.at % text.length;
    if (m.kind === 'insert') return text.slice(0, at) + m.text + text.slice(at);
    if (m.kind === 'delete') return text.slice(0, at) + text.slice(at + m.length);
    return text.slice(0, at) + m.text + text.slice(at + m.text.length);
  }
  const lines = text.split('\n');
  const i = m.at % lines.length;
  if (m.kind === 'dupLine') lines.splice(i, 0, lines[i]!);
  else if (m.kind === 'dropLine') lines.splice(i, 1);
  else lines[i] = ` ${lines[i]}`;
  return lines.join('\n');
}

/** A YAML value of any shape, for dropping into a valid file at an existing key. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.double(),
  fc.integer({ min: -1e12, max: 1e12 }),
  fc.constantFrom(null, true, false, '', '0', '-1', '::', '0.0.0.0/0', '192.0.2.1', '2001:db8::1', 'a'.repeat(300)),
);

describe('(a) the loader never throws anything but InputError', () => {
  test('random text as any file', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FILES), fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.array(yamlish, { maxLength: 40 }).map((a) => a.join(''))), (file, text) => {
        expect(outcome({ ...S, [file]: text })).not.toBe('ok');
      }),
      { numRuns: 100 },
    );
  });

  test('random edits of the shipped files', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...FILES), mutation), { minLength: 1, maxLength: 4 }), (edits) => {
        const texts = { ...S };
        for (const [file, m] of edits) texts[file] = mutate(texts[file]!, m);
        outcome(texts);
      }),
      { numRuns: 100 },
    );
  });

  test('any value at any existing key of the shipped files', () => {
    // Every scalar path in the shipped files, as [file, path].
    const paths: [string, (string | number)[]][] = [];
    const walk = (file: string, v: unknown, path: (string | number)[]) => {
      if (path.length > 0) paths.push([file, path]);
      if (Array.isArray(v)) v.forEach((x, i) => walk(file, x, [...path, i]));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(file, x, [...path, k]);
    };
    const t = loadTexts(inputs(S));
    walk('sites/cdn.yaml', JSON.parse(JSON.stringify(t.cdn)), []);
    for (const site of t.sites) walk(`sites/${site.id}.yaml`, JSON.parse(JSON.stringify(site)), []);
    fc.assert(
      fc.property(fc.constantFrom(...paths), anyValue, ([file, path], value) => {
        const model = JSON.parse(JSON.stringify(file === 'sites/cdn.yaml' ? t.cdn : t.sites.find((s) => `sites/${s.id}.yaml` === file)));
        let target = model;
        for (const k of path.slice(0, -1)) target = target[k];
        target[path[path.length - 1]!] = value;
        outcome({ ...S, [file]: stringify(model) });
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------- (b) valid topologies

interface Gen {
  cdn: Record<string, unknown>;
  sites: Record<string, unknown>[];
}



const siteShape = fc.record({
  platform: fc.constantFrom('metal', 'aws'),
  caches: fc.array(fc.constantFrom('nginx', 'squid'), { minLength: 2, maxLength: 4 }),
  cacheFirst: fc.boolean(),
  bfd: fc.boolean(),
  password: fc.option(fc.constantFrom('ssm:/anycdn/bgp/upstream', 'secretsmanager:anycdn/bgp+1', 'file:/etc/anycdn/bgp.secret'), { nil: undefined }),
  v6bfd: fc.boolean(),
  multihop: fc.option(fc.integer({ min: 2, max: 255 }), { nil: undefined }),
  vrid: fc.integer({ min: 1, max: 255 }),
  advertIntervalMs: fc.integer({ min: 1, max: 4095 }).map((n) => n * 10),
  preempt: fc.oneof(fc.constant(false), fc.record({ delaySec: fc.integer({ min: 0, max: 1000 }) })),
  priorities: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 254 }), { minLength: 2, maxLength: 2 }), { nil: undefined }),
  iface: fc.constantFrom('eth0', 'ens5', 'enp3s0f1'),
  https: fc.option(fc.record({ certPath: fc.constantFrom('/etc/haproxy/certs/img.pem', '/etc/ssl/private/a_b-c.pem'), redirectHttp: fc.boolean() }), { nil: undefined }),
  hostOffset: fc.integer({ min: 10, max: 90 }), // lbs at offset+1, offset+2: above the VIP (.10), below the caches (.100)
});

const validTopology: fc.Arbitrary<Gen> = fc
  .record({
    ids: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{1,5}$/), { minLength: 1, maxLength: 3 }),
    // Public, never reserved (AS_TRANS), never a peer's (64501, 64502).
    originAsn: fc.oneof(fc.integer({ min: 1, max: 23455 }), fc.integer({ min: 23457, max: 64495 }), fc.integer({ min: 131072, max: 4199999999 })),
    shapes: fc.array(siteShape, { minLength: 3, maxLength: 3 }),
    ipv6: fc.boolean(),
    origin: fc.oneof(
      fc.record({ s3: fc.record({ bucket: fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/), region: fc.constantFrom('eu-west-1', 'us-east-2', 'ap-southeast-1') }) }),
      fc.record({ http: fc.record({ url: fc.constantFrom('https://origin.example.net', 'http://origin.example.net:8080/', 'https://o-1.example.org') }) }),
    ),
    zone: fc.constantFrom('cdn.example.net', 'example.org', 'a-b.c0.example'),
    imageLabel: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/),
    ttlSec: fc.integer({ min: 1, max: 86400 }),
    hc: fc.record({ intervalMs: fc.integer({ min: 50, max: 10000 }), timeoutMs: fc.integer({ min: 50, max: 10000 }), fall: fc.integer({ min: 1, max: 10 }), rise: fc.integer({ min: 1, max: 100 }) }),
    // A normal path: one segment, and never . or .. (paths.ts).
    path: fc.stringMatching(/^\/[a-z0-9._~-]{0,20}$/).filter((p) => p !== '/.' && p !== '/..'),
    shield: fc.boolean(),
  })
  .map(({ ids, originAsn, shapes, ipv6, origin, zone, imageLabel, ttlSec, hc, path, shield }) => {
    const imageHost = `${imageLabel}.${zone}`;
    const ns = ['ns1', 'ns2'].map((n) => `${n}.${zone}`).filter((n) => n !== imageHost);
    const sites = ids.map((id, i) => site(id, i, shapes[i]!, ipv6, shield && i === 0));
    return {
      cdn: {
        imageHost,
        dns: { zone, nameservers: ns.length > 0 ? ns : [`ns.${zone}`], hostmaster: `hostmaster.${zone}`, ttlSec },
        bgp: { originAsn },
        anycast: { prefixes: [{ name: 'a', ipv4: { prefix: '192.0.2.0/24', address: '192.0.2.53' }, ...(ipv6 ? { ipv6: { prefix: '2001:db8:53::/48', address: '2001:db8:53::53' } } : {}) }] },
        healthcheck: { ...hc, path },
        origin,
        ...(shield ? { shield: ids[0] } : {}),
      },
      sites,
    };
  });

type Shape = typeof siteShape extends fc.Arbitrary<infer T> ? T : never;

/**
 * Site i lives on 198.18.<i>.0/24 (benchmarking space, RFC 2544, which stands in for public
 * addresses as documentation space does) and 2001:db8:<i>::/64; its upstream on .1 / ::1.
 */
function site(id: string, i: number, s: Shape, ipv6: boolean, isShield: boolean): Record<string, unknown> {
  const n = i + 1;
  const v4 = (h: number) => `198.18.${n}.${h}`;
  const v6 = (h: number) => `2001:db8:${n}::${h}`;
  const metal = s.platform === 'metal';
  const lbs = [1, 2].map((k, j) => ({
    name: `${id}-lb${k}`,
    roles: ['lb', 'dns'],
    address: v4(s.hostOffset + k),
    ...(ipv6 && metal ? { address6: v6(s.hostOffset + k) } : {}),
    interface: s.iface,
    ...(s.priorities ? { vrrpPriority: s.priorities[j] } : {}),
  }));
  const caches = s.caches.map((engine, k) => ({ name: `${id}-cache${k + 1}`, roles: ['cache'], cacheEngine: engine, address: v4(100 + k) }));
  const peers = metal
    ? [
        { name: 'transit1', address: s.multihop ? `198.19.${n}.1` : v4(1), asn: 64501, bfd: s.bfd, ...(s.multihop ? { multihop: s.multihop } : {}), ...(s.password ? { passwordRef: s.password } : {}) },
        ...(ipv6 ? [{ name: 'transit1-v6', address: v6(1), asn: 64502, bfd: s.v6bfd }] : []),
      ]
    : [];
  return {
    id,
    location: `Site ${n} (generated), XX`,
    platform: s.platform,
    ...(metal ? {} : { region: 'eu-central-1' }),
    subnets: { lan: `198.18.${n}.0/24`, ...(ipv6 && metal ? { lan6: `2001:db8:${n}::/64` } : {}) },
    vip: {
      address: v4(10),
      virtualRouterId: s.vrid,
      advertIntervalMs: s.advertIntervalMs,
      preempt: s.preempt,
      ...(metal ? {} : { elasticIp: { address: `203.0.113.${n}`, allocationId: `eipalloc-0123456${n}` } }),
    },
    // The shield serves the other sites' caches over plain HTTP, so it never redirects.
    ...(s.https ? { haproxy: { https: { ...s.https, redirectHttp: s.https.redirectHttp && !isShield } } } : {}),
    bgp: { peers },
    hosts: s.cacheFirst ? [...caches, ...lbs] : [...lbs, ...caches],
  };
}

function texts(g: Gen, reverse = false): Texts {
  const files: [string, string][] = [['sites/cdn.yaml', stringify(g.cdn)], ...g.sites.map((s): [string, string] => [`sites/${String(s.id)}.yaml`, stringify(s)])];
  return Object.fromEntries(reverse ? files.reverse() : files);
}

describe('free text passes every quoting gate', () => {
  // Any code point the free-text rule accepts (letters of every script and their marks come from
  // the whole Unicode range), mixed with the ASCII punctuation it allows.
  const char = fc.oneof(
    fc.constantFrom(...' ,.-_/()\':0123456789aZ'),
    fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)).filter((c) => SAFE_TEXT.test(c)),
  );
  const freeText = fc.array(char, { minLength: 1, maxLength: 40 }).map((a) => a.join(''));

  test('bird, knot, keepalived, nginx, haproxy, sh and systemd carry it, and it reads back unchanged', () => {
    fc.assert(
      fc.property(freeText, (v) => {
        expect(SAFE_TEXT.test(v)).toBe(true);
        // The double-quoting dialects without escapes keep the value byte for byte.
        for (const q of [birdQuote, knotQuote, keepalivedQuote]) expect(q(v).text).toBe(`"${v}"`);
        // nginx and haproxy escape only characters free text never holds.
        expect([`"${v}"`, v]).toContain(nginxQuote(v).text);
        expect(haproxyQuote(v)).toBe(`"${v}"`);
        expect(shQuote(v)).toBe(`'${v.replace(/'/g, `'\\''`)}'`);
        expect(emitUnit([['Unit', [['Description', v]]]])).toEqual(['[Unit]', `Description=${v}`]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('paths: any string is refused with a message, or already normal', () => {
  // Strings made mostly of what paths are made of, so . and .. segments, // and trailing / come
  // up often; and any string at all.
  const pathish = fc
    .array(fc.constantFrom('/', '/', '/', '.', '.', 'a', 'b0', '-', '_', '~', ' ', '\n', '\u00e9'), { maxLength: 24 })
    .map((a) => a.join(''));
  const anyPath = fc.oneof(pathish, pathish.map((p) => `/${p}`), fc.string());
  // Every path field of the model, each a YAML edit of the shipped files: [field, line:col, prefix, edit].
  const FIELDS: [string, string, string, (v: string) => Texts][] = [
    ['cache.nginx.path', 'sites/cdn.yaml:38:17', '', (v) => edit(S, ['sites/cdn.yaml', 'keyIncludesQuery: false', `keyIncludesQuery: false\n  nginx: {path: ${JSON.stringify(v)}}`])],
    ['cache.squid.path', 'sites/cdn.yaml:38:17', '', (v) => edit(S, ['sites/cdn.yaml', 'keyIncludesQuery: false', `keyIncludesQuery: false\n  squid: {path: ${JSON.stringify(v)}}`])],
    ['haproxy.https.certPath', 'sites/ams.yaml:19:15', '', (v) => edit(S, ['sites/ams.yaml', 'certPath: /etc/haproxy/certs/img.cdn.example.net.pem', `certPath: ${JSON.stringify(v)}`])],
    ['bgp.peers[0].passwordRef', 'sites/ams.yaml:27:20', 'file:', (v) => edit(S, ['sites/ams.yaml', 'passwordRef: ssm:/anycdn/ams/bgp/transit1', `passwordRef: ${JSON.stringify(`file:${v}`)}`])],
    ['healthcheck.path', 'sites/cdn.yaml:30:9', '', (v) => edit(S, ['sites/cdn.yaml', 'rise: 5\n', `rise: 5\n  path: ${JSON.stringify(v)}\n`])],
  ];
  const isNormal = (p: string) => posix.normalize(p) === p && (p === '/' || !p.endsWith('/'));

  test('pathProblem: a path it passes is normal, and the fix it names is', () => {
    fc.assert(
      fc.property(pathish.map((p) => `/${p}`), (p) => {
        const problem = pathProblem(p);
        if (problem) expect(isNormal(problem.normal), `${p} -> ${problem.normal}`).toBe(true);
        else expect(isNormal(p), p).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test('every path field, through the loader', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), anyPath, ([field, at, prefix, inject], p) => {
        const got = outcome(inject(p));
        if (got === 'ok') {
          expect(isNormal(p), `${field} took ${JSON.stringify(p)}`).toBe(true);
        } else {
          // One line, at the field, naming it; a path of the right shape gets its normal form.
          expect(got, `${field}: ${JSON.stringify(p)}`).toEqual([expect.stringMatching(new RegExp(`^${at}: ${field.replace(/[.[\]]/g, '\\$&')}: `))]);
          const problem = p.startsWith('/') ? pathProblem(p) : undefined;
          if (problem && /^\/[A-Za-z0-9._\/-]+$/.test(p) && p.length <= 100) expect(got[0]).toContain(`write it as ${JSON.stringify(prefix + problem.normal)}`);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('(b) generated valid topologies', () => {
  test('load, and render deterministically to clean text', () => {
    fc.assert(
      fc.property(validTopology, (g) => {
        const t = texts(g);
        expect(outcome(t)).toBe('ok');
        const first = renderTopology(loadTexts(inputs(t)));
        const again = renderTopology(loadTexts(inputs(t)));
        const reordered = renderTopology(loadTexts(inputs(texts(g, true))));
        expect(again).toEqual(first);
        expect(reordered, 'the order of the input files does not matter').toEqual(first);
        expect(first.length).toBeGreaterThan(0);
        for (const f of first) {
          const where = `${f.site}/${f.host}${f.path}`;
          expect(f.content.endsWith('\n') && !f.content.endsWith('\n\n'), `${where} ends with exactly one newline`).toBe(true);
          // Interpolation slips; the health checker program is JavaScript, where `undefined` is a word.
          if (f.check !== 'node') expect(f.content, where).not.toMatch(/undefined|NaN|\[object/);
          expect(f.path, where).toMatch(/^\/[A-Za-z0-9._@\/-]+$/);
        }
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------- (c) the real checkers agree

const checkSkip = missingBinary('/usr/sbin/bird', 'bird2') ?? missingBinary('/usr/sbin/knotc', 'knot') ?? missingBinary('/usr/bin/kzonecheck', 'knot-dnssecutils')
  ?? missingBinary('/usr/sbin/haproxy', 'haproxy') ?? missingBinary('/usr/sbin/nginx', 'nginx') ?? missingBinary('/usr/sbin/squid', 'squid')
  ?? missingBinary('/usr/sbin/keepalived', 'keepalived') ?? missingRoot();

describe('(c) the real checkers accept every generated valid topology', () => {
  test.skipIf(checkSkip)('every rendered file passes its daemon\'s checker', async () => {
    await fc.assert(
      fc.asyncProperty(validTopology, async (g) => {
        const report = await checkHosts(renderPlans(loadTexts(inputs(texts(g)))));
        expect(report.diagnostics.map(formatDiagnostic)).toEqual([]);
        expect(report.checked.filter((c) => !c.ok).map((c) => `${c.file.site}/${c.file.host}${c.file.path}`)).toEqual([]);
      }),
      { numRuns: 10 },
    );
  }, 300_000);
});
