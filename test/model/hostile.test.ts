// Hostile input: every string field that reaches a daemon config, fed values that could break out
// of a config dialect, a shell script or a zone file. Each is rejected with a precise error, or,
// where the model accepts it, it appears exactly as intended in the rendered file and the real
// checker accepts that file.
import { describe, expect, test } from 'vitest';
import { CHECKERS, checkersOf } from '../../lib/check/registry.ts';
import { checkFiles, checkHosts } from '../../lib/check/run.ts';
import { renderPlans, renderTopology } from '../../lib/render/index.ts';
import type { RenderedFile } from '../../lib/render/types.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { edit, errors, load, shipped, type Texts } from './fixtures.ts';

const S = shipped();
const AMS = 'sites/ams.yaml';
const CDN = 'sites/cdn.yaml';

/** A YAML double-quoted scalar: JSON's escapes (\n, \", \\, \u0000) are YAML's too. */
const yq = (v: string) => JSON.stringify(v);
const appendToAms = (yaml: string): Texts => ({ ...S, [AMS]: S[AMS] + yaml });

const IDENT_RULE = 'must start with a letter and hold only lowercase letters, digits and hyphens (at most 32)';
const DNS_RULE = 'must be a lowercase DNS name such as img.cdn.example.net (letters a-z, digits, hyphens, dots; a non-ASCII name in its xn-- form)';
const PATH_RULE = 'must be an absolute path of letters, digits and . _ / - (at most 200 characters)';
const LOCATION_RULE = "may hold only letters of any script (with their accents), digits 0-9, spaces and , . - _ / ( ) ' :";

interface Field {
  field: string;
  /** Where the value sits once injected: file:line:col. */
  at: string;
  /** The field's own rule, as the error states it. */
  rule: string;
  /** A valid value; hostile characters are appended to it. */
  base: string;
  /** Rows of HOSTILE this field takes as ordinary text (free text takes letters of any script). */
  accepts?: string[];
  inject(value: string): Texts;
}

const FIELDS: Field[] = [
  { field: 'location', at: 'sites/ams.yaml:3:11', base: 'Amsterdam', inject: (v) => edit(S, [AMS, 'location: Amsterdam, NL', `location: ${yq(v)}`]),
    rule: LOCATION_RULE, accepts: ['single quote', 'Cyrillic а lookalike'] },
  { field: 'id', at: 'sites/ams.yaml:2:5', base: 'ams', rule: IDENT_RULE, inject: (v) => edit(S, [AMS, 'id: ams', `id: ${yq(v)}`]) },
  { field: 'hosts[0].name', at: 'sites/ams.yaml:34:11', base: 'ams-lb1', rule: IDENT_RULE, inject: (v) => edit(S, [AMS, 'name: ams-lb1', `name: ${yq(v)}`]) },
  { field: 'bgp.peers[0].name', at: 'sites/ams.yaml:23:13', base: 'transit1', rule: IDENT_RULE, inject: (v) => edit(S, [AMS, 'name: transit1\n', `name: ${yq(v)}\n`]) },
  { field: 'imageHost', at: 'sites/cdn.yaml:3:12', base: 'img.cdn.example.net', rule: DNS_RULE, inject: (v) => edit(S, [CDN, 'imageHost: img.cdn.example.net', `imageHost: ${yq(v)}`]) },
  { field: 'dns.zone', at: 'sites/cdn.yaml:6:9', base: 'cdn.example.net', rule: DNS_RULE, inject: (v) => edit(S, [CDN, 'zone: cdn.example.net', `zone: ${yq(v)}`]) },
  { field: 'dns.nameservers[0]', at: 'sites/cdn.yaml:7:17', base: 'ns1.cdn.example.net', rule: DNS_RULE, inject: (v) => edit(S, [CDN, '[ns1.cdn.example.net,', `[${yq(v)},`]) },
  { field: 'dns.hostmaster', at: 'sites/cdn.yaml:8:15', base: 'hostmaster.example.net', rule: DNS_RULE, inject: (v) => edit(S, [CDN, 'hostmaster: hostmaster.example.net', `hostmaster: ${yq(v)}`]) },
  { field: 'bgp.peers[0].passwordRef', at: 'sites/ams.yaml:27:20', base: 'ssm:/anycdn/ams', inject: (v) => edit(S, [AMS, 'passwordRef: ssm:/anycdn/ams/bgp/transit1', `passwordRef: ${yq(v)}`]),
    rule: 'must be a reference: ssm:/param/name, secretsmanager:secret-name or file:/absolute/path (never the secret itself)' },
  { field: 'healthcheck.path', at: 'sites/cdn.yaml:30:9', base: '/healthz', rule: 'must be an absolute URL path such as /healthz', inject: (v) => edit(S, [CDN, 'rise: 5\n', `rise: 5\n  path: ${yq(v)}\n`]) },
  { field: 'hosts[0].interface', at: 'sites/ams.yaml:38:16', base: 'eth0', inject: (v) => edit(S, [AMS, 'address6: 2001:db8:a::11\n', `address6: 2001:db8:a::11\n    interface: ${yq(v)}\n`]),
    rule: 'must be a Linux interface name such as eth0, eno1.100 or br-lan (a letter, then letters, digits and _ . -; at most 15)' },
  { field: 'haproxy.https.certPath', at: 'sites/ams.yaml:19:15', base: '/etc/haproxy/img.pem', inject: (v) => edit(S, [AMS, 'certPath: /etc/haproxy/certs/img.cdn.example.net.pem', `certPath: ${yq(v)}`]),
    rule: `${PATH_RULE}, such as /etc/haproxy/certs/img.pem` },
  { field: 'cache.nginx.path', at: 'sites/cdn.yaml:38:17', base: '/var/cache/img', rule: PATH_RULE, inject: (v) => edit(S, [CDN, 'keyIncludesQuery: false', `keyIncludesQuery: false\n  nginx: {path: ${yq(v)}}`]) },
  { field: 'origin.s3.bucket', at: 'sites/cdn.yaml:33:13', base: 'images', inject: (v) => edit(S, [CDN, 'bucket: anycdn-example-images', `bucket: ${yq(v)}`]),
    rule: 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)' },
];

/** [name, characters appended to the field's valid value, how the error shows them]. */
const HOSTILE: [name: string, text: string, shown: string][] = [
  ['newline', '\nx', '\\nx'],
  ['carriage return', '\r', '\\r'],
  ['double quote', '"', '\\"'],
  ['single quote', "'", "'"],
  ['backslash', '\\', '\\\\'],
  ['open brace', '{', '{'],
  ['close brace', '}', '}'],
  ['semicolon', ';', ';'],
  ['hash', '#', '#'],
  ['command substitution', '$(reboot)', '$(reboot)'],
  ['backticks', '`id`', '`id`'],
  ['NUL', '\u0000', '\\u0000'],
  ['escape (ANSI)', '\u001b[2J', '\\u001b[2J'],
  ['DEL', '\u007f', '\\u007f'],
  ['zero-width space', '\u200b', '\\u200b'],
  ['right-to-left override', '\u202e', '\\u202e'],
  ['Cyrillic а lookalike', '\u0430', '\\u0430'],
  ['fullwidth semicolon', '\uff1b', '\\uff1b'],
];

describe('hostile characters in every string field that reaches a config', () => {
  const rows = FIELDS.flatMap((f) =>
    HOSTILE.filter(([name]) => !f.accepts?.includes(name)).map(([name, text, shown]) => [f.field, name, f, text, `${f.at}: ${f.field}: ${f.rule}, got "${f.base}${shown}"`] as const),
  );
  test.each(rows)('%s + %s', (_field, _name, f, text, expected) => {
    expect(errors(f.inject(f.base + text))).toEqual([expected]);
  });
});

describe('free text (location) takes ordinary text in any script', () => {
  const at = (v: string) => edit(S, [AMS, 'location: Amsterdam, NL', `location: ${yq(v)}`]);
  test.each([
    'São Paulo, BR',
    'Sa\u0303o Paulo, BR', // the same, with a combining tilde
    'Zürich: Rechenzentrum 2 (Nord)',
    "O'Hare, Chicago, US",
    'Москва, RU',
    '東京都, JP',
    'Łódź, PL',
  ])('%s', (v) => {
    expect(load(at(v)).sites.find((x) => x.id === 'ams')!.location).toBe(v);
  });

  test.each<[what: string, value: string, shown: string]>([
    ['a double quote', 'São "Paulo"', '"S\\u00e3o \\"Paulo\\""'],
    ['a semicolon', 'São Paulo; BR', '"S\\u00e3o Paulo; BR"'],
    ['an exclamation mark (keepalived comments)', 'São Paulo!', '"S\\u00e3o Paulo!"'],
    ['a dollar sign (nginx variables)', 'São $Paulo', '"S\\u00e3o $Paulo"'],
    ['a percent sign (systemd specifiers)', 'São 100%', '"S\\u00e3o 100%"'],
    ['a tab', 'São\tPaulo', '"S\\u00e3o\\tPaulo"'],
    ['a non-breaking space', 'São\u00a0Paulo', '"S\\u00e3o\\u00a0Paulo"'],
    ['an Arabic-Indic digit', 'São \u0661', '"S\\u00e3o \\u0661"'],
  ])('refuses %s', (_what, value, shown) => {
    expect(errors(at(value))).toEqual([`sites/ams.yaml:3:11: location: ${LOCATION_RULE}, got ${shown}`]);
  });
});

describe('names: the rule says exactly which letters', () => {
  test('a non-ASCII DNS name is refused with the form that works', () => {
    expect(errors(edit(S, [CDN, 'imageHost: img.cdn.example.net', 'imageHost: bilder.münchen.cdn.example.net']))).toEqual([
      `sites/cdn.yaml:3:12: imageHost: ${DNS_RULE}, got "bilder.m\\u00fcnchen.cdn.example.net"`,
    ]);
    expect(load(edit(S, [CDN, 'imageHost: img.cdn.example.net', 'imageHost: bilder.xn--mnchen-3ya.cdn.example.net'])).cdn.imageHost).toBe('bilder.xn--mnchen-3ya.cdn.example.net');
  });
});

describe('very long values (10,000 characters)', () => {
  const long = 'a'.repeat(10_000);
  const shown = (base: string) => `"${(base + long).slice(0, 60)}... (${base.length + 10_000} characters)"`;
  const lines = (f: Field, ...rules: string[]) => rules.map((r) => `${f.at}: ${f.field}: ${r}, got ${shown(f.base)}`);
  const byName = (n: string) => FIELDS.find((f) => f.field === n)!;
  test.each<[field: string, expected: string[]]>([
    ['location', lines(byName('location'), 'must be at most 200 characters')],
    ['id', lines(byName('id'), 'must be at most 32 characters', IDENT_RULE)],
    ['hosts[0].name', lines(byName('hosts[0].name'), 'must be at most 32 characters', IDENT_RULE)],
    ['bgp.peers[0].name', lines(byName('bgp.peers[0].name'), 'must be at most 32 characters', IDENT_RULE)],
    ['imageHost', lines(byName('imageHost'), DNS_RULE, 'must be at most 253 characters')],
    ['dns.zone', lines(byName('dns.zone'), DNS_RULE, 'must be at most 253 characters')],
    ['dns.nameservers[0]', lines(byName('dns.nameservers[0]'), DNS_RULE, 'must be at most 253 characters')],
    ['dns.hostmaster', lines(byName('dns.hostmaster'), DNS_RULE, 'must be at most 253 characters')],
    ['bgp.peers[0].passwordRef', lines(byName('bgp.peers[0].passwordRef'), byName('bgp.peers[0].passwordRef').rule)],
    ['healthcheck.path', lines(byName('healthcheck.path'), byName('healthcheck.path').rule)],
    ['hosts[0].interface', lines(byName('hosts[0].interface'), byName('hosts[0].interface').rule)],
    ['haproxy.https.certPath', lines(byName('haproxy.https.certPath'), byName('haproxy.https.certPath').rule)],
    ['cache.nginx.path', lines(byName('cache.nginx.path'), PATH_RULE)],
    ['origin.s3.bucket', lines(byName('origin.s3.bucket'), byName('origin.s3.bucket').rule)],
  ])('%s', (field, expected) => {
    const f = byName(field);
    expect(errors(f.inject(f.base + long))).toEqual(expected);
  });

  test('raw.bird longer than 10,000 characters', () => {
    const raw = `# ${'x'.repeat(10_000)}`;
    expect(errors(appendToAms(`raw:\n  bird: ${yq(raw)}\n`))).toEqual([
      `sites/ams.yaml:51:9: raw.bird: must be at most 10000 characters, got "# ${'x'.repeat(58)}... (10002 characters)"`,
    ]);
  });
});

describe('paths are normal: no . or .. segment, no //, no trailing /', () => {
  // Every path field of the model, each with where the value lands and what precedes the path.
  const PATHS: [field: string, at: string, prefix: string, inject: (v: string) => Texts][] = [
    ['cache.nginx.path', 'sites/cdn.yaml:38:17', '', (v) => edit(S, [CDN, 'keyIncludesQuery: false', `keyIncludesQuery: false\n  nginx: {path: ${yq(v)}}`])],
    ['cache.squid.path', 'sites/cdn.yaml:38:17', '', (v) => edit(S, [CDN, 'keyIncludesQuery: false', `keyIncludesQuery: false\n  squid: {path: ${yq(v)}}`])],
    ['haproxy.https.certPath', 'sites/ams.yaml:19:15', '', (v) => edit(S, [AMS, 'certPath: /etc/haproxy/certs/img.cdn.example.net.pem', `certPath: ${yq(v)}`])],
    ['bgp.peers[0].passwordRef', 'sites/ams.yaml:27:20', 'file:', (v) => edit(S, [AMS, 'passwordRef: ssm:/anycdn/ams/bgp/transit1', `passwordRef: ${yq(`file:${v}`)}`])],
    // A URL path: the health checker's URL parser drops . and .. segments, so its GET would not
    // be the path haproxy answers itself (monitor-uri), and a healthy site would look sick.
    ['healthcheck.path', 'sites/cdn.yaml:30:9', '', (v) => edit(S, [CDN, 'rise: 5\n', `rise: 5\n  path: ${yq(v)}\n`])],
  ];
  const VALUES: [value: string, problems: string, normal: string][] = [
    ['/var/cache/../../etc', 'a .. segment', '/etc'],
    ['/var/./cache', 'a . segment', '/var/cache'],
    ['/var//cache', '//', '/var/cache'],
    ['/var/cache/', 'a trailing /', '/var/cache'],
    ['/srv/cache/./../', 'a .. segment, a . segment, a trailing /', '/srv'],
  ];
  const rows = PATHS.flatMap(([field, at, prefix, inject]) => VALUES.map(([v, problems, normal]) => [field, v, inject, `${at}: ${field}: "${prefix}${v}" is not a normal path (${problems}); write it as "${prefix}${normal}"`] as const));
  test.each(rows)('%s: %s', (_field, value, inject, expected) => {
    expect(errors(inject(value))).toEqual([expected]);
  });

  test.each(PATHS.map(([field, , , inject]) => [field, inject] as const))('%s: the normal form loads', (_field, inject) => {
    expect(errors(inject('/var/cache/img'))).toEqual([]);
  });

  test('why healthcheck.path is held to it: the checker asks for another path', () => {
    expect(new URL('http://198.51.100.10/health/./z').pathname).toBe('/health/z');
  });
});

describe('wrong address families, bad prefixes and duplicates', () => {
  test.each<[what: string, texts: Texts, expected: string[]]>([
    ['IPv6 as the VIP', edit(S, [AMS, 'address: 198.51.100.10', 'address: 2001:db8:a::10']), [
      'sites/ams.yaml:12:12: vip.address: must be an IPv4 address such as 192.0.2.10, got "2001:db8:a::10"',
    ]],
    ['IPv6 as a host address', edit(S, [AMS, 'address: 198.51.100.21', 'address: 2001:db8:a::21']), [
      'sites/ams.yaml:45:14: hosts[2].address: must be an IPv4 address such as 192.0.2.10, got "2001:db8:a::21"',
    ]],
    ['IPv4 as address6', edit(S, [AMS, 'address6: 2001:db8:a::11', 'address6: 198.51.100.111']), [
      'sites/ams.yaml:37:15: hosts[0].address6: must be an IPv6 address such as 2001:db8::10, got "198.51.100.111"',
    ]],
    ['IPv6 as the Elastic IP', edit(S, ['sites/sin.yaml', 'address: 198.51.100.130', 'address: 2001:db8::30']), [
      'sites/sin.yaml:19:14: vip.elasticIp.address: must be an IPv4 address such as 192.0.2.10, got "2001:db8::30"',
    ]],
    ['IPv6 anycast in the ipv4 slot', edit(S, [CDN, 'prefix: 192.0.2.0/24, address: 192.0.2.53', 'prefix: 192.0.2.0/24, address: "2001:db8:53::54"']), [
      'sites/cdn.yaml:17:46: anycast.prefixes[0].ipv4.address: must be an IPv4 address such as 192.0.2.10, got "2001:db8:53::54"',
    ]],
    ['an anycast prefix without a length', edit(S, [CDN, 'prefix: 192.0.2.0/24, address: 192.0.2.53', 'prefix: 192.0.2.0, address: 192.0.2.53']), [
      'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: must be a prefix in CIDR form such as 192.0.2.0/24, got "192.0.2.0"',
    ]],
    ['an anycast prefix with a newline and a brace', edit(S, [CDN, 'prefix: 192.0.2.0/24, address: 192.0.2.53', 'prefix: "192.0.2.0/24\\n}", address: 192.0.2.53']), [
      'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: must be a prefix in CIDR form such as 192.0.2.0/24, got "192.0.2.0/24\\n}"',
    ]],
    ['communities out of range and too many parts, and too many prepends', edit(S, [AMS, '      passwordRef: ssm:/anycdn/ams/bgp/transit1\n', '      passwordRef: ssm:/anycdn/ams/bgp/transit1\n      communities: ["64501:65536", "1:2:3:4", "64501:100", "64501:4294967295:0"]\n      prepend: 11\n']), [
      'sites/ams.yaml:28:21: bgp.peers[0].communities[0]: must be a BGP community ASN:value (0-65535 each) or a large community a:b:c (0-4294967295 each), got "64501:65536"',
      'sites/ams.yaml:28:36: bgp.peers[0].communities[1]: must be a BGP community ASN:value (0-65535 each) or a large community a:b:c (0-4294967295 each), got "1:2:3:4"',
      'sites/ams.yaml:29:16: bgp.peers[0].prepend: must be at most 10, got 11',
    ]],
    ['a peer address that is a hostname', edit(S, [AMS, 'address: 198.51.100.1\n', 'address: router.example.net\n']), [
      'sites/ams.yaml:24:16: bgp.peers[0].address: must be an IPv4 or IPv6 address, got "router.example.net"',
    ]],
    ['an IPv4 address with a leading zero', edit(S, [AMS, 'address: 198.51.100.21', 'address: 198.51.100.021']), [
      'sites/ams.yaml:45:14: hosts[2].address: must be an IPv4 address such as 192.0.2.10, got "198.51.100.021"',
    ]],
    ['an address with a prefix length', edit(S, [AMS, 'address: 198.51.100.21', 'address: 198.51.100.21/26']), [
      'sites/ams.yaml:45:14: hosts[2].address: must be an IPv4 address such as 192.0.2.10, got "198.51.100.21/26"',
    ]],
    ['a subnet with host bits', edit(S, [AMS, 'lan: 198.51.100.0/26', 'lan: 198.51.100.10/26']), [
      'sites/ams.yaml:8:8: subnets.lan: "198.51.100.10/26" has host bits set; use the network 198.51.100.0/26',
    ]],
    ['an IPv6 subnet with host bits', edit(S, [AMS, 'lan6: 2001:db8:a::/64', 'lan6: 2001:db8:a::1/64']), [
      'sites/ams.yaml:9:9: subnets.lan6: "2001:db8:a::1/64" has host bits set; use the network 2001:db8:a::/64',
    ]],
    ['a subnet without a length', edit(S, [AMS, 'lan: 198.51.100.0/26', 'lan: 198.51.100.0']), [
      'sites/ams.yaml:8:8: subnets.lan: must be a prefix in CIDR form such as 192.0.2.0/24, got "198.51.100.0"',
    ]],
    ['an IPv6 /129', edit(S, [AMS, 'lan6: 2001:db8:a::/64', 'lan6: 2001:db8:a::/129']), [
      'sites/ams.yaml:9:9: subnets.lan6: "2001:db8:a::/129" is not a valid prefix; write it in CIDR form such as 192.0.2.0/24 or 2001:db8::/64',
    ]],
    ['a duplicate host name inside one site', edit(S, [AMS, 'name: ams-cache2', 'name: ams-cache1']), [
      'sites/ams.yaml:46:11: hosts[3].name: ams-cache1 is already a host in site ams; host names must be unique across sites',
    ]],
    ['the VIP on a host address', edit(S, [AMS, 'address: 198.51.100.10', 'address: 198.51.100.11']), [
      'sites/ams.yaml:36:14: hosts[0].address: 198.51.100.11 is already used by the image VIP in site ams; every address must be unique',
    ]],
    ['a peer on a host address', edit(S, [AMS, 'address: 198.51.100.1\n', 'address: 198.51.100.21\n']), [
      'sites/ams.yaml:24:16: bgp.peers[0].address: 198.51.100.21 is already used by host ams-cache1 in site ams; every address must be unique',
    ]],
  ])('%s', (_what, texts, expected) => {
    expect(errors(texts)).toEqual(expected);
  });
});

describe('numbers: huge, negative, fractional, not numbers', () => {
  const asn = (v: string) => edit(S, ['sites/cdn.yaml', 'originAsn: 64496', `originAsn: ${v}`]);
  test.each<[yaml: string, expected: string[]]>([
    ['0', ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got 0']],
    ['-1', ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got -1']],
    ['-0', ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got 0']],
    ['64496.5', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a whole number, got 64496.5']],
    ['-1.5', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a whole number, got -1.5']],
    ['4294967296', ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got 4294967296']],
    ['9007199254740993', ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got 9007199254740992']],
    ['99999999999999999999999', ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got 1e+23']],
    ['1e400', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got Infinity']],
    ['.inf', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got Infinity']],
    ['-.inf', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got -Infinity']],
    ['.nan', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got NaN']],
    ['"64496"', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got "64496"']],
    ['AS64496', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got "AS64496"']],
    ['[64496]', ['sites/cdn.yaml:44:3: bgp.originAsn: must be a number, got [64496]']],
    ['', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got null']],
    ['true', ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got true']],
  ])('asn: %s', (yaml, expected) => {
    expect(errors(asn(yaml))).toEqual(expected);
  });

  test('YAML 1.2 hex and octal integers are numbers like any other', () => {
    expect(load(asn('0xfbf0')).cdn.bgp.originAsn).toBe(64496);
    expect(load(asn('0o175760')).cdn.bgp.originAsn).toBe(64496);
  });

  test.each<[what: string, texts: Texts, expected: string]>([
    ['virtualRouterId 256', edit(S, [AMS, 'virtualRouterId: 10', 'virtualRouterId: 256']), 'sites/ams.yaml:13:20: vip.virtualRouterId: must be at most 255, got 256'],
    ['ttlSec 2^53', edit(S, [CDN, 'ttlSec: 60', 'ttlSec: 9007199254740993']), 'sites/cdn.yaml:9:11: dns.ttlSec: must be at most 86400, got 9007199254740992'],
    ['a negative interval', edit(S, [CDN, 'intervalMs: 150', 'intervalMs: -150']), 'sites/cdn.yaml:26:15: healthcheck.intervalMs: must be at least 50, got -150'],
    ['a fractional fall count', edit(S, [CDN, 'fall: 2', 'fall: 2.5']), 'sites/cdn.yaml:28:9: healthcheck.fall: must be a whole number, got 2.5'],
  ])('%s', (_what, texts, expected) => {
    expect(errors(texts)).toEqual([expected]);
  });
});

describe('YAML resource attacks', () => {
  const laughs = [
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`),
  ].join('\n');

  // No clock here: the loader stops at 100 alias copies (maxAliasCount), so the work is bounded by
  // count, and the error itself shows that the bound was hit.
  test('a billion laughs is an error at the first alias, not a hang or a crash', () => {
    expect(errors({ ...S, 'sites/nyc.yaml': `${laughs}\n` })).toEqual([
      'sites/nyc.yaml:2:8: yaml: aliases expand to more than 100 copies; write the values out instead of nesting anchors',
    ]);
  });

  test('a billion laughs in the global file', () => {
    expect(errors(edit(S, [CDN, 'shield: ams', `shield: ams\n${laughs}`]))).toEqual([
      'sites/cdn.yaml:43:8: yaml: aliases expand to more than 100 copies; write the values out instead of nesting anchors',
    ]);
  });

  test('a nested flow collection is an unknown key like any other', () => {
    const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
    expect(errors(edit(S, [CDN, 'shield: ams', `shield: ams\ndeep: ${deep}`]))).toEqual([
      'sites/cdn.yaml:42:1: deep: unknown key; allowed here: $schema, acme, anycast, bgp, cache, dns, healthcheck, imageHost, images, internal, monitoring, origin, shield',
    ]);
  });

  test('a collection nested 20,000 deep is an error, not a stack overflow', () => {
    // Where the parser gives up depends on the stack, so the column is not fixed; the message is.
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const out = errors(edit(S, [CDN, 'shield: ams', `shield: ams\ndeep: ${deep}`]));
    expect(out.length).toBeGreaterThanOrEqual(1);
    for (const line of out) expect(line).toMatch(/^sites\/cdn\.yaml:42:\d+: yaml: nested too deeply; flatten the value$/);
  });

  test('__proto__ and constructor are unknown keys, not prototype pollution', () => {
    expect(errors(edit(S, ['sites/nyc.yaml', '# AS: bgp.originAsn in cdn.yaml', '# AS: bgp.originAsn in cdn.yaml\n__proto__: {polluted: true}\nconstructor: {prototype: {polluted: true}}']))).toEqual([
      'sites/nyc.yaml:6:1: __proto__: unknown key; allowed here: $schema, availabilityZones, bgp, drain, haproxy, hosts, id, location, platform, raw, region, state, subnets, vip',
      'sites/nyc.yaml:7:1: constructor: unknown key; allowed here: $schema, availabilityZones, bgp, drain, haproxy, hosts, id, location, platform, raw, region, state, subnets, vip',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// ---------------------------------------------------------------- accepted values, rendered safely

const checkSkip = missingBinary('/usr/sbin/bird', 'bird2') ?? missingBinary('/usr/sbin/knotc', 'knot') ?? missingBinary('/usr/bin/kzonecheck', 'knot-dnssecutils') ?? missingRoot();

function file(files: RenderedFile[], host: string, path: string): string[] {
  const f = files.find((x) => x.host === host && x.path === path);
  if (!f) throw new Error(`no ${path} on ${host}`);
  return f.content.split('\n');
}

const LONG_HOST = 'ams-lb1-with-a-very-long-name-32';
const LONG_PEER = 'transit-one-with-a-long-name-x32';
const LONG_REF = `ssm:/${'anycdn/ams/'.repeat(90)}x`.slice(0, 1005);
const LONG_IMAGE_HOST = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(61)}.cdn.example.net`;

interface Accepted {
  what: string;
  texts: Texts;
  host: string;
  path: string;
  /** Lines that must appear in the file, exactly and in this order (contiguous). */
  lines: string[];
}

const ACCEPTED: Accepted[] = [
  { what: 'a 32-character host name', texts: edit(S, [AMS, 'name: ams-lb1', `name: ${LONG_HOST}`]), host: LONG_HOST, path: '/etc/knot/knot.conf',
    lines: [`    nsid: "ams/${LONG_HOST}"`] },
  { what: 'a 32-character peer name with hyphens', texts: edit(S, [AMS, 'name: transit1\n', `name: ${LONG_PEER}\n`]), host: 'ams-lb1', path: '/etc/bird/bird.conf',
    lines: [`protocol bgp bgp_${LONG_PEER.replace(/-/g, '_')} from upstream {`, `\tdescription "${LONG_PEER} AS64501";`] },
  { what: 'a secretsmanager reference with + = @', texts: edit(S, [AMS, 'passwordRef: ssm:/anycdn/ams/bgp/transit1', 'passwordRef: secretsmanager:anycdn/ams+bgp=1@transit.v1_x-y']),
    host: 'ams-lb1', path: '/usr/local/sbin/anycdn-fetch-secrets',
    lines: ["bird_password 'secretsmanager:anycdn/ams+bgp=1@transit.v1_x-y' '/run/anycdn/secrets/bird-transit1.conf'"] },
  { what: 'a 1,005-character ssm reference', texts: edit(S, [AMS, 'passwordRef: ssm:/anycdn/ams/bgp/transit1', `passwordRef: ${LONG_REF}`]),
    host: 'ams-lb1', path: '/usr/local/sbin/anycdn-fetch-secrets', lines: [`bird_password '${LONG_REF}' '/run/anycdn/secrets/bird-transit1.conf'`] },
  { what: 'a health path with ~ . _ -', texts: edit(S, [CDN, 'rise: 5\n', 'rise: 5\n  path: /health~z/.a-b_c.html\n']), host: 'ams-lb2', path: '/usr/local/etc/anycdn/healthcheck.json',
    lines: ['    "url": "http://198.51.100.10/health~z/.a-b_c.html"'] },
  { what: 'a 15-character interface name', host: 'ams-lb1', path: '/etc/keepalived/keepalived.conf',
    texts: edit(S, [AMS, 'address6: 2001:db8:a::11\n', 'address6: 2001:db8:a::11\n    interface: enp3s0f1abcdefg\n'], [AMS, 'address6: 2001:db8:a::12\n', 'address6: 2001:db8:a::12\n    interface: enp3s0f1abcdefg\n']),
    lines: ['\tinterface enp3s0f1abcdefg'] },
  // Linux's own rule takes these (dev_valid_name); keepalived names them unquoted.
  { what: 'a VLAN interface name', host: 'ams-lb1', path: '/etc/keepalived/keepalived.conf',
    texts: edit(S, [AMS, 'address6: 2001:db8:a::11\n', 'address6: 2001:db8:a::11\n    interface: eno1.100\n'], [AMS, 'address6: 2001:db8:a::12\n', 'address6: 2001:db8:a::12\n    interface: eno1.100\n']),
    lines: ['\tinterface eno1.100'] },
  { what: 'a bridge interface name', host: 'ams-lb1', path: '/etc/keepalived/keepalived.conf',
    texts: edit(S, [AMS, 'address6: 2001:db8:a::11\n', 'address6: 2001:db8:a::11\n    interface: br-lan\n'], [AMS, 'address6: 2001:db8:a::12\n', 'address6: 2001:db8:a::12\n    interface: br-lan\n']),
    lines: ['\tinterface br-lan'] },
  { what: 'a 253-character image host', texts: edit(S, [CDN, 'imageHost: img.cdn.example.net', `imageHost: ${LONG_IMAGE_HOST}`]), host: 'nyc-lb1', path: '/etc/knot/zones/cdn.example.net.zone',
    lines: [`${LONG_IMAGE_HOST}.     60 IN A    198.51.100.74`] },
  { what: 'raw.bird with quotes, braces, # and ; (bird syntax)', host: 'ams-lb1', path: '/etc/bird/bird.conf',
    texts: appendToAms(`raw:\n  bird: ${yq('protocol static static_extra {\n\tipv4;\n\troute 203.0.113.0/24 blackhole; # "quoted" {comment};\n}\n')}\n`),
    lines: ['# raw.bird from sites/ams.yaml', 'protocol static static_extra {', '\tipv4;', '\troute 203.0.113.0/24 blackhole; # "quoted" {comment};', '}', ''] },
];

describe('accepted values appear exactly as intended', () => {
  test.each(ACCEPTED.map((a) => [a.what, a] as const))('%s', (_what, a) => {
    const content = file(renderTopology(load(a.texts)), a.host, a.path);
    const start = content.indexOf(a.lines[0]!);
    expect(start, `${a.lines[0]} in ${a.path}`).toBeGreaterThanOrEqual(0);
    expect(content.slice(start, start + a.lines.length)).toEqual(a.lines);
  });

  // One test per value, each one host view, so no test sums the time of many.
  test.skipIf(checkSkip).each(ACCEPTED.map((a) => [a.what, a] as const))('the real checkers accept the file rendered from %s', async (_what, a) => {
    // The file the value reaches, plus the unchecked files of its host (includes)
    // and the health checker program, which checks its own config.
    // The host's own plan, as validate checks it (its needs create the interfaces it names).
    const plan = renderPlans(load(a.texts)).find((p) => p.host === a.host)!;
    const files = plan.files.filter((f) => f.path === a.path || !f.check || f.check === 'node');
    const report = await checkHosts([{ ...plan, files }]);
    expect(report.diagnostics, a.what).toEqual([]);
    const kind = files.find((f) => f.path === a.path)?.check;
    expect(report.checked.filter((c) => c.file.path === a.path).map((c) => [c.checker, c.ok]), a.what).toEqual(checkersOf(kind!, CHECKERS).map((c) => [c.kind, true]));
    expect(report.checked.filter((c) => !c.ok), a.what).toEqual([]);
  });
});

describe('raw.bird is passed through verbatim, and bird -p is what rejects it', () => {
  test.each<[what: string, raw: string, line: number]>([
    ['an unclosed block', 'protocol bgp {', 1],
    ['a NUL byte', 'define X = 1;\u0000', 96],
    ['a backslash-escaped quote (bird has no escapes)', 'define X = "a\\"b";', 96],
  ])('%s', async (_what, raw, line) => {
    const files = renderTopology(load(appendToAms(`raw:\n  bird: ${yq(raw)}\n`))).filter((f) => f.host === 'ams-lb1' && (f.check === 'bird' || !f.check));
    expect(file(files, 'ams-lb1', '/etc/bird/bird.conf').slice(-3)).toEqual(['# raw.bird from sites/ams.yaml', raw, '']);
    if (checkSkip) return;
    const report = await checkFiles(files);
    expect(report.diagnostics.map((d) => `${d.file}:${d.line}`)).toEqual([`ams/ams-lb1/etc/bird/bird.conf:${line}`]);
  });
});
