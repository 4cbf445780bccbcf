// Every cross-site rule and every loader failure, each on a small edit of the shipped sites/*.yaml,
// asserting the exact lines the CLI prints: file:line:col: message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatDiagnostic, InputError } from '../../lib/model/errors.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { BIRD_KEYWORDS } from '../../lib/model/bird-keywords.ts';
import { RULES } from '../../lib/model/rules/index.ts';
import { SHARED_STACK_NAMES } from '../../lib/model/rules/stack-names.ts';
import { GLOBAL, ORIGIN, ORIGIN_REPLICA } from '../../lib/cloud/stacks.ts';
import { ident } from '../../lib/render/syntax/bird.ts';
import { edit, errors, load, shipped, SHIPPED_DIR, type Texts } from './fixtures.ts';

const S = shipped();
const AMS = 'sites/ams.yaml';
const NYC = 'sites/nyc.yaml';
const SIN = 'sites/sin.yaml';
const CDN = 'sites/cdn.yaml';

/** nyc moved onto ams's segment (198.51.100.0/26), every address shifted down by 32. */
function nycOnAmsSegment(vrid: number): Texts {
  let t = edit(S, [NYC, 'lan: 198.51.100.64/26', 'lan: 198.51.100.0/26'], [NYC, 'virtualRouterId: 20', `virtualRouterId: ${vrid}`]);
  for (const [from, to] of [[65, 33], [74, 42], [75, 43], [76, 44], [85, 53], [86, 54]] as const) {
    t = edit(t, [NYC, `198.51.100.${from}\n`, `198.51.100.${to}\n`]);
  }
  return t;
}

test('the shipped sites load without errors', () => {
  const t = load(S);
  expect(t.sites.map((s) => s.id)).toEqual(['ams', 'nyc', 'sin']);
  expect(t.sites[0]!.hosts.map((h) => h.name)).toEqual(['ams-cache1', 'ams-cache2', 'ams-lb1', 'ams-lb2']);
});

test('long anycast prefixes load behind allowLongPrefixes, and explicit bgp.announce lists are kept', () => {
  const t = load(edit(S, [CDN, 'prefix: 192.0.2.0/24, address: 192.0.2.53', 'prefix: 192.0.2.52/31, address: 192.0.2.53'], [CDN, 'anycast:\n', 'anycast:\n  allowLongPrefixes: true\n'], [AMS, 'bgp:\n', 'bgp:\n  announce: [b, a]\n']));
  expect(t.cdn.anycast.prefixes[0]!.ipv4.prefix).toBe('192.0.2.52/31');
  expect(t.sites.map((s) => s.bgp.announce)).toEqual([['b', 'a'], undefined, undefined]);
});

test('every rule in lib/model/rules has a failing fixture below', () => {
  // Adding a rule without a fixture here fails this test: extend RULE_CASES first.
  expect(new Set(RULE_CASES.map(([rule]) => rule))).toEqual(new Set(RULES.map((r) => r.name)));
});

/** The first anycast prefix's IPv4 family, as the pinned cdn.yaml writes it. */
const P4 = 'prefix: 192.0.2.0/24, address: 192.0.2.53';
/** The line after which a peer's communities go in the pinned ams.yaml. */
const PW = '      passwordRef: ssm:/anycdn/ams/bgp/transit1\n';

/** The shipped origin, as the shipped cdn.yaml writes it. */
const ORIGIN_BLOCK = 'origin:\n  s3:\n    bucket: anycdn-example-images\n    region: eu-west-1\n';
/** An origin list (one YAML line per entry) in place of ORIGIN_BLOCK. */
const originList = (...entries: string[]) => `origin:\n${entries.map((e) => `  ${e}\n`).join('')}`;

type Case = [rule: string, what: string, texts: Texts, expected: string[]];

const RULE_CASES: Case[] = [
  // prefixes
  ['prefixes', 'overlapping subnets across sites', edit(S, [NYC, 'lan6: 2001:db8:b::/64', 'lan6: 2001:db8:a::/48']), [
    'sites/nyc.yaml:9:9: subnets.lan6: 2001:db8:a::/48 overlaps 2001:db8:a::/64 (subnets.lan6 of site ams); give each segment its own prefix',
    'sites/nyc.yaml:24:16: bgp.peers[1].address: 2001:db8:b::1 is not on a site subnet; put it in one of 2001:db8:a::/48 or set multihop',
    'sites/nyc.yaml:31:15: hosts[0].address6: 2001:db8:b::75 (nyc-lb1) is outside the site subnets; pick an address in one of 2001:db8:a::/48',
    'sites/nyc.yaml:35:15: hosts[1].address6: 2001:db8:b::76 (nyc-lb2) is outside the site subnets; pick an address in one of 2001:db8:a::/48',
  ]],
  ['prefixes', 'subnet with host bits', edit(S, [NYC, 'lan: 198.51.100.64/26', 'lan: 198.51.100.65/26']), [
    'sites/nyc.yaml:8:8: subnets.lan: "198.51.100.65/26" has host bits set; use the network 198.51.100.64/26',
  ]],
  ['prefixes', 'prefix length out of range', edit(S, [NYC, 'lan: 198.51.100.64/26', 'lan: 198.51.100.64/33']), [
    'sites/nyc.yaml:8:8: subnets.lan: "198.51.100.64/33" is not a valid prefix; write it in CIDR form such as 192.0.2.0/24 or 2001:db8::/64',
  ]],
  // anycast
  ['anycast', 'an IPv4 prefix longer than /24', edit(S, [CDN, 'prefix: 192.0.2.0/24, address: 192.0.2.53', 'prefix: 192.0.2.0/25, address: 192.0.2.53']), [
    'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: 192.0.2.0/25 is longer than /24, which upstreams drop (RFC 7454); announce a covering /24 or shorter, or set anycast.allowLongPrefixes: true for a lab or private peering',
  ]],
  ['anycast', 'an IPv6 prefix longer than /48', edit(S, [CDN, 'prefix: "2001:db8:54::/48"', 'prefix: "2001:db8:54::/64"']), [
    'sites/cdn.yaml:22:23: anycast.prefixes[1].ipv6.prefix: 2001:db8:54::/64 is longer than /48, which upstreams drop (RFC 7454); announce a covering /48 or shorter, or set anycast.allowLongPrefixes: true for a lab or private peering',
  ]],
  ['anycast', 'a prefix with host bits, of the wrong family, and a service address outside it', edit(S, [CDN, 'prefix: 192.0.2.0/24, address: 192.0.2.53', 'prefix: 192.0.2.53/24, address: 192.0.2.53'], [CDN, 'prefix: "2001:db8:54::/48"', 'prefix: 198.51.100.128/25'], [CDN, 'address: 203.0.113.53', 'address: 203.0.114.53']), [
    'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: "192.0.2.53/24" has host bits set; use the network 192.0.2.0/24',
    'sites/cdn.yaml:21:48: anycast.prefixes[1].ipv4.address: 203.0.114.53 is outside 203.0.113.0/24; pick the service address inside its prefix',
    'sites/cdn.yaml:22:23: anycast.prefixes[1].ipv6.prefix: 198.51.100.128/25 is not an IPv6 prefix; use one such as 2001:db8:53::/48',
  ]],
  ['anycast', 'the network address as the service address', edit(S, [CDN, 'address: "2001:db8:53::53"', 'address: "2001:db8:53::"']), [
    'sites/cdn.yaml:18:52: anycast.prefixes[0].ipv6.address: 2001:db8:53:: is the network address of 2001:db8:53::/48, which stands for the announcement on lo; pick another address inside it, such as 2001:db8:53::53',
  ]],
  ['anycast', 'a prefix on a site segment and two prefixes that overlap', edit(S, [CDN, 'prefix: 192.0.2.0/24, address: 192.0.2.53', 'prefix: 10.30.0.0/16, address: 10.30.200.53'], [CDN, 'prefix: "2001:db8:54::/48"', 'prefix: "2001:db8::/32"']), [
    'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: 10.30.0.0/16 is in 10.0.0.0/8, private space (RFC 1918), which the internet does not route; use a public prefix you hold, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
    'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: 10.30.0.0/16 overlaps subnets.public of site sin; the anycast prefixes must not be on any site segment',
    'sites/cdn.yaml:22:23: anycast.prefixes[1].ipv6.prefix: 2001:db8::/32 overlaps 2001:db8:53::/48 of anycast prefix a; each prefix is announced and withdrawn on its own, so they must not overlap',
    'sites/cdn.yaml:22:23: anycast.prefixes[1].ipv6.prefix: 2001:db8::/32 overlaps subnets.lan6 of site ams; the anycast prefixes must not be on any site segment',
    'sites/cdn.yaml:22:23: anycast.prefixes[1].ipv6.prefix: 2001:db8::/32 overlaps subnets.lan6 of site nyc; the anycast prefixes must not be on any site segment',
  ]],
  ['anycast', 'a name server in two prefixes, one in none, one unknown', edit(S, [CDN, 'nameservers: [ns2.cdn.example.net]', 'nameservers: [ns1.cdn.example.net, ns3.cdn.example.net]']), [
    'sites/cdn.yaml:7:38: dns.nameservers[1]: ns2.cdn.example.net is in the zone and needs glue; list it under the nameservers of one of anycast.prefixes (a, b)',
    'sites/cdn.yaml:23:21: anycast.prefixes[1].nameservers[0]: ns1.cdn.example.net is already reached at anycast prefix a; a name server has one glue address per family, list it once',
    'sites/cdn.yaml:23:42: anycast.prefixes[1].nameservers[1]: ns3.cdn.example.net is not in dns.nameservers; add it there or remove it here',
  ]],
  ['anycast', 'a name server announced by one site only, and unknown or repeated names in bgp.announce', edit(S, [AMS, 'bgp:\n', 'bgp:\n  announce: [a, b, a]\n'], [NYC, 'bgp:\n', 'bgp:\n  announce: [a, c]\n']), [
    'sites/ams.yaml:22:20: bgp.announce[2]: a is listed twice; remove one',
    'sites/cdn.yaml:20:13: anycast.prefixes[1].name: b (name server ns2.cdn.example.net) is announced by 1 site(s) (ams); a name server needs at least 2, add b to bgp.announce of nyc',
    'sites/nyc.yaml:18:17: bgp.announce[1]: c is not an anycast prefix; use one of a, b',
  ]],
  // Issue 24: a hijack-sized announcement, private and special space, and the host-bits hint.
  ['anycast', 'an IPv4 prefix shorter than /16', edit(S, [CDN, P4, 'prefix: 192.0.0.0/12, address: 192.0.2.53']), [
    "sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: 192.0.0.0/12 is shorter than /16: announced from every site, it takes in other networks' addresses unless you hold all of it; announce the prefix you hold, or set anycast.allowShortPrefixes: true if you hold this one",
  ]],
  ['anycast', 'an IPv6 prefix shorter than /32', edit(S, [CDN, 'prefix: "2001:db8:53::/48", address: "2001:db8:53::53"', 'prefix: "2600::/12", address: "2600::53"']), [
    "sites/cdn.yaml:18:23: anycast.prefixes[0].ipv6.prefix: 2600::/12 is shorter than /32: announced from every site, it takes in other networks' addresses unless you hold all of it; announce the prefix you hold, or set anycast.allowShortPrefixes: true if you hold this one",
  ]],
  ['anycast', 'a private IPv4 prefix', edit(S, [CDN, P4, 'prefix: 10.53.0.0/24, address: 10.53.0.53']), [
    'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: 10.53.0.0/24 is in 10.0.0.0/8, private space (RFC 1918), which the internet does not route; use a public prefix you hold, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
  ]],
  ['anycast', 'a unique local IPv6 prefix', edit(S, [CDN, 'prefix: "2001:db8:53::/48", address: "2001:db8:53::53"', 'prefix: "fd00:53::/48", address: "fd00:53::53"']), [
    'sites/cdn.yaml:18:23: anycast.prefixes[0].ipv6.prefix: fd00:53::/48 is in fc00::/7, unique local space (RFC 4193), which the internet does not route; use a public prefix you hold, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
  ]],
  ['anycast', 'carrier-grade NAT space, and a wide prefix (allowed) that takes in private space', edit(S, [CDN, P4, 'prefix: 8.0.0.0/6, address: 8.0.0.53'], [CDN, 'prefix: 203.0.113.0/24, address: 203.0.113.53', 'prefix: 100.64.53.0/24, address: 100.64.53.53'], [CDN, 'anycast:\n', 'anycast:\n  allowShortPrefixes: true\n']), [
    'sites/cdn.yaml:18:23: anycast.prefixes[0].ipv4.prefix: 8.0.0.0/6 overlaps subnets.public of site sin; the anycast prefixes must not be on any site segment',
    'sites/cdn.yaml:18:23: anycast.prefixes[0].ipv4.prefix: 8.0.0.0/6 takes in 10.0.0.0/8, private space (RFC 1918), which the internet does not route; use a public prefix you hold, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
    'sites/cdn.yaml:22:23: anycast.prefixes[1].ipv4.prefix: 100.64.53.0/24 is in 100.64.0.0/10, shared address space of carrier-grade NAT (RFC 6598), which the internet does not route; use a public prefix you hold, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
  ]],
  ['anycast', 'loopback space, which even an internal CDN cannot announce', edit(S, [CDN, P4, 'prefix: 127.53.0.0/24, address: 127.53.0.53'], [CDN, 'imageHost:', 'internal: true\nimageHost:']), [
    'sites/cdn.yaml:18:23: anycast.prefixes[0].ipv4.prefix: 127.53.0.0/24 is in 127.0.0.0/8, loopback space, which no network routes to a service; use a public prefix you hold',
  ]],
  ['anycast', 'host bits on a very short prefix: the hint names the /24 the address is in, not 192.0.0.0/2', edit(S, [CDN, P4, 'prefix: 198.19.1.0/2, address: 198.19.1.53']), [
    'sites/cdn.yaml:17:23: anycast.prefixes[0].ipv4.prefix: "198.19.1.0/2" has host bits set, and a /2 is far wider than the address suggests; if you meant the /24 it is in, write 198.19.1.0/24',
  ]],
  ['anycast', 'host bits on a very short IPv6 prefix: the /48 it is in', edit(S, [CDN, 'prefix: "2001:db8:53::/48", address: "2001:db8:53::53"', 'prefix: "2001:db8:53::/16", address: "2001:db8:53::53"']), [
    'sites/cdn.yaml:18:23: anycast.prefixes[0].ipv6.prefix: "2001:db8:53::/16" has host bits set, and a /16 is far wider than the address suggests; if you meant the /48 it is in, write 2001:db8:53::/48',
  ]],
  ['anycast', 'bgp.announce on a site without peers', edit(S, [SIN, '# AS: bgp.originAsn in cdn.yaml\n', '# AS: bgp.originAsn in cdn.yaml\nbgp:\n  announce: [a]\n']), [
    'sites/sin.yaml:11:3: bgp.announce: site sin has no bgp.peers to announce through; remove bgp.announce or add peers',
  ]],
  // addressesInSubnets
  ['addressesInSubnets', 'an IPv6 VIP outside the subnets, and one taken by a host', edit(S, [AMS, '  virtualRouterId: 10\n', '  address6: 2001:db8:c::10\n  virtualRouterId: 10\n'], [NYC, '  virtualRouterId: 20\n', '  address6: 2001:db8:b::75\n  virtualRouterId: 20\n']), [
    'sites/ams.yaml:13:13: vip.address6: 2001:db8:c::10 is outside the site subnets; pick an address in one of 2001:db8:a::/64',
    'sites/nyc.yaml:32:15: hosts[0].address6: 2001:db8:b::75 is already used by the IPv6 image VIP in site nyc; every address must be unique',
  ]],
  ['awsNetwork', 'an IPv6 VIP on an aws site', edit(S, [SIN, '  virtualRouterId: 30\n', '  address6: 2001:db8:c::10\n  virtualRouterId: 30\n']), [
    'sites/sin.yaml:16:13: vip.address6: 2001:db8:c::10 is IPv6, but aws site sin has no IPv6 subnet (and no Elastic IP is IPv6); remove it',
  ]],
  ['addressesInSubnets', 'VIP outside the subnets', edit(S, [AMS, 'address: 198.51.100.10', 'address: 198.51.100.100']), [
    'sites/ams.yaml:12:12: vip.address: 198.51.100.100 is outside the site subnets; pick an address in one of 198.51.100.0/26',
  ]],
  ['addressesInSubnets', 'host address6 outside the subnets', edit(S, [NYC, 'address6: 2001:db8:b::76', 'address6: 2001:db8:c::76']), [
    'sites/nyc.yaml:35:15: hosts[1].address6: 2001:db8:c::76 (nyc-lb2) is outside the site subnets; pick an address in one of 2001:db8:b::/64',
  ]],
  ['addressesInSubnets', 'IPv6 address on a site without IPv6 subnet', edit(S, [NYC, '  lan6: 2001:db8:b::/64\n', ''], [NYC, '    - name: transit1-v6\n      address: 2001:db8:b::1\n      asn: 64502\n', ''], [NYC, '    address6: 2001:db8:b::75\n', '']), [
    'sites/nyc.yaml:17:3: bgp.peers: metal site nyc needs an IPv6 peer to announce anycast prefix a 2001:db8:53::/48',
    'sites/nyc.yaml:30:15: hosts[1].address6: 2001:db8:b::76 (nyc-lb2) is outside the site subnets; pick an address in an IPv6 subnet (add one under subnets)',
  ]],
  ['addressesInSubnets', 'directly connected peer off the subnets', edit(S, [NYC, 'address: 198.51.100.65', 'address: 203.0.113.1']), [
    'sites/nyc.yaml:20:16: bgp.peers[0].address: 203.0.113.1 is not on a site subnet; put it in one of 198.51.100.64/26 or set multihop',
  ]],
  // subnetEdges
  ['subnetEdges', 'the VIP on its subnet\'s network address', edit(S, [AMS, 'address: 198.51.100.10', 'address: 198.51.100.0']), [
    'sites/ams.yaml:12:12: vip.address: 198.51.100.0 is the network address of subnets.lan 198.51.100.0/26; pick an address from 198.51.100.1 to 198.51.100.62',
  ]],
  ['subnetEdges', 'the VIP on its subnet\'s broadcast address', edit(S, [AMS, 'address: 198.51.100.10', 'address: 198.51.100.63']), [
    'sites/ams.yaml:12:12: vip.address: 198.51.100.63 is the broadcast address of subnets.lan 198.51.100.0/26; pick an address from 198.51.100.1 to 198.51.100.62',
  ]],
  ['subnetEdges', 'an IPv6 VIP and a host on the subnet-router anycast address', edit(S, [NYC, '  virtualRouterId: 20\n', '  address6: "2001:db8:b::"\n  virtualRouterId: 20\n'], [AMS, 'address6: 2001:db8:a::12', 'address6: "2001:db8:a::"']), [
    'sites/ams.yaml:41:15: hosts[1].address6: 2001:db8:a:: (ams-lb2) is the subnet-router anycast address of subnets.lan6 2001:db8:a::/64, which every router on the segment answers (RFC 4291); pick another address inside it',
    'sites/nyc.yaml:13:13: vip.address6: 2001:db8:b:: is the subnet-router anycast address of subnets.lan6 2001:db8:b::/64, which every router on the segment answers (RFC 4291); pick another address inside it',
  ]],
  // published
  ['published', 'a private VIP published in the public zone', { ...S, [NYC]: S[NYC]!.replaceAll('198.51.100.', '10.20.0.') }, [
    'sites/nyc.yaml:12:12: vip.address: 10.20.0.74 is in 10.0.0.0/8, private space (RFC 1918), and cdn.example.net publishes it as img.cdn.example.net, where the internet cannot reach it; use a public address, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
  ]],
  ['published', 'a unique local IPv6 VIP', edit({ ...S, [NYC]: S[NYC]!.replaceAll('2001:db8:b:', 'fd00:b:') }, [NYC, '  virtualRouterId: 20\n', '  address6: fd00:b::10\n  virtualRouterId: 20\n']), [
    'sites/nyc.yaml:13:13: vip.address6: fd00:b::10 is in fc00::/7, unique local space (RFC 4193), and cdn.example.net publishes it as img.cdn.example.net, where the internet cannot reach it; use a public address, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
  ]],
  ['published', 'a private Elastic IP (what an aws site publishes)', edit(S, [SIN, 'address: 198.51.100.130', 'address: 10.99.0.1']), [
    'sites/sin.yaml:19:14: vip.elasticIp.address: 10.99.0.1 is in 10.0.0.0/8, private space (RFC 1918), and cdn.example.net publishes it as img.cdn.example.net, where the internet cannot reach it; use a public address, or set internal: true in cdn.yaml for a CDN reached only inside your own network',
  ]],
  ['published', 'a link-local VIP, which even an internal CDN cannot publish', edit({ ...S, [NYC]: S[NYC]!.replaceAll('198.51.100.', '169.254.0.') }, [CDN, 'imageHost:', 'internal: true\nimageHost:']), [
    'sites/nyc.yaml:12:12: vip.address: 169.254.0.74 is in 169.254.0.0/16, link-local space, and cdn.example.net publishes it as img.cdn.example.net, where no client can reach it; use a public address',
  ]],
  // uniqueAddresses
  ['uniqueAddresses', 'two hosts on one address', edit(S, [AMS, 'address: 198.51.100.22', 'address: 198.51.100.21']), [
    'sites/ams.yaml:49:14: hosts[3].address: 198.51.100.21 is already used by host ams-cache1 in site ams; every address must be unique',
  ]],
  ['uniqueAddresses', 'the same IPv6 address written two ways', edit(S, [NYC, 'address6: 2001:db8:b::76', 'address6: 2001:DB8:b:0::75']), [
    'sites/nyc.yaml:35:15: hosts[1].address6: 2001:DB8:b:0::75 is already used by host nyc-lb1 in site nyc; every address must be unique',
  ]],
  ['uniqueAddresses', 'an Elastic IP equal to another site\'s VIP', edit(S, [SIN, 'address: 198.51.100.130', 'address: 198.51.100.10']), [
    'sites/sin.yaml:19:14: vip.elasticIp.address: 198.51.100.10 is already used by the image VIP in site ams; every address must be unique',
  ]],
  // uniqueNames
  ['uniqueNames', 'a host name used in two sites', edit(S, [NYC, 'name: nyc-cache2', 'name: ams-cache2']), [
    'sites/nyc.yaml:40:11: hosts[3].name: ams-cache2 is already a host in site ams; host names must be unique across sites',
  ]],
  ['uniqueNames', 'a peer name used twice in a site', edit(S, [NYC, 'name: transit1-v6', 'name: transit1']), [
    'sites/nyc.yaml:23:13: bgp.peers[1].name: transit1 is used twice in this site; peer names must be unique per site',
  ]],
  // roles
  ['roles', 'one lb host', edit(S, [NYC, 'roles: [lb, dns]\n    address: 198.51.100.76', 'roles: [dns]\n    address: 198.51.100.76']), [
    'sites/nyc.yaml:27:1: hosts: a site needs exactly 2 lb hosts (the keepalived pair), got 1',
  ]],
  ['roles', 'one cache host', edit(S, [AMS, 'roles: [cache]\n    cacheEngine: nginx\n    address: 198.51.100.22', 'roles: [lb]\n    address: 198.51.100.22']), [
    'sites/ams.yaml:33:1: hosts: a site needs at least 2 cache hosts, got 1',
    'sites/ams.yaml:33:1: hosts: a site needs exactly 2 lb hosts (the keepalived pair), got 3',
  ]],
  ['roles', 'no dns host', edit(S, [SIN, 'roles: [lb, dns]\n    address: 10.30.0.11', 'roles: [lb]\n    address: 10.30.0.11'], [SIN, 'roles: [lb, dns]\n    address: 10.30.0.12', 'roles: [lb]\n    address: 10.30.0.12']), [
    'sites/sin.yaml:22:1: hosts: a site needs at least 1 dns host to announce the anycast address, got 0',
  ]],
  ['roles', 'a cache without an engine', edit(S, [NYC, '    cacheEngine: squid\n    address: 198.51.100.86', '    address: 198.51.100.86']), [
    'sites/nyc.yaml:40:5: hosts[3].cacheEngine: cache host nyc-cache2 needs cacheEngine: nginx or squid',
  ]],
  ['roles', 'a role listed twice', edit(S, [NYC, 'roles: [lb, dns]\n    address: 198.51.100.76', 'roles: [lb, dns, dns]\n    address: 198.51.100.76']), [
    'sites/nyc.yaml:33:5: hosts[1].roles: dns is listed twice; remove one',
  ]],
  ['roles', 'a cache engine on an lb host', edit(S, [NYC, 'roles: [lb, dns]\n    address: 198.51.100.76', 'roles: [lb, dns]\n    cacheEngine: nginx\n    address: 198.51.100.76']), [
    'sites/nyc.yaml:34:18: hosts[1].cacheEngine: "nginx" on nyc-lb2, which has no cache role; remove it or add the cache role',
  ]],
  ['roles', 'lb and cache on one host', edit(S, [NYC, 'roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.86', 'roles: [cache, lb]\n    cacheEngine: squid\n    address: 198.51.100.86']), [
    'sites/nyc.yaml:27:1: hosts: a site needs exactly 2 lb hosts (the keepalived pair), got 3',
    'sites/nyc.yaml:41:5: hosts[3].roles: nyc-cache2 cannot be both lb and cache (both serve port 80); split them',
  ]],
  ['roles', 'equal VRRP priorities', edit(S, [NYC, '    address6: 2001:db8:b::75\n', '    address6: 2001:db8:b::75\n    vrrpPriority: 100\n'], [NYC, '    address6: 2001:db8:b::76\n', '    address6: 2001:db8:b::76\n    vrrpPriority: 100\n']), [
    'sites/nyc.yaml:37:19: hosts[1].vrrpPriority: 100 equals nyc-lb1\'s; give the lb pair different priorities',
  ]],
  ['roles', 'a VRRP priority on a cache', edit(S, [NYC, 'cacheEngine: squid\n    address: 198.51.100.86', 'cacheEngine: squid\n    vrrpPriority: 100\n    address: 198.51.100.86']), [
    'sites/nyc.yaml:43:19: hosts[3].vrrpPriority: nyc-cache2 is not an lb host; remove vrrpPriority',
  ]],
  // bgp
  ['bgp', 'GTSM on a multihop session', edit(S, [AMS, '      passwordRef: ssm:/anycdn/ams/bgp/transit1\n', '      passwordRef: ssm:/anycdn/ams/bgp/transit1\n      multihop: 2\n      ttlSecurity: true\n']), [
    'sites/ams.yaml:29:20: bgp.peers[0].ttlSecurity: GTSM (RFC 5082) is for directly connected peers, and transit1 has multihop 2; remove ttlSecurity or multihop',
  ]],
  // one origin AS
  ['originAsn', 'a private origin ASN with no upstream that originates for the sites', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 65010']), [
    'sites/cdn.yaml:44:14: bgp.originAsn: 65010 is a private ASN, which upstreams strip before they pass the route on, so the internet sees their ASN as the origin and ROAs naming 65010 make the route RPKI-invalid (and IRR databases refuse it); use your own public ASN, or, if every site sits behind one upstream that originates for it, set bgp.upstreamOriginAsn to that upstream\'s ASN (the ROAs and IRR objects then name it)',
  ]],
  ['originAsn', 'a 32-bit private origin ASN', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 4200000001']), [
    'sites/cdn.yaml:44:14: bgp.originAsn: 4200000001 is a private ASN, which upstreams strip before they pass the route on, so the internet sees their ASN as the origin and ROAs naming 4200000001 make the route RPKI-invalid (and IRR databases refuse it); use your own public ASN, or, if every site sits behind one upstream that originates for it, set bgp.upstreamOriginAsn to that upstream\'s ASN (the ROAs and IRR objects then name it)',
  ]],
  ['originAsn', 'AS_TRANS as the origin', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 23456']), [
    'sites/cdn.yaml:44:14: bgp.originAsn: 23456 is AS_TRANS (RFC 6793); use your own public ASN',
  ]],
  ['originAsn', 'reserved ASN 65535 as the origin', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 65535']), [
    'sites/cdn.yaml:44:14: bgp.originAsn: 65535 is reserved (RFC 7300); use your own public ASN',
  ]],
  ['originAsn', 'behind an upstream that originates: every peer must be that upstream', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 65010\n  upstreamOriginAsn: 64501']), [
    'sites/nyc.yaml:21:12: bgp.peers[0].asn: 64502 is not bgp.upstreamOriginAsn 64501; behind an upstream that originates for the sites, every peer is that upstream (another one would pass the private AS 65010 on, or originate with its own ASN, which the ROAs do not name)',
    'sites/nyc.yaml:25:12: bgp.peers[1].asn: 64502 is not bgp.upstreamOriginAsn 64501; behind an upstream that originates for the sites, every peer is that upstream (another one would pass the private AS 65010 on, or originate with its own ASN, which the ROAs do not name)',
  ]],
  ['originAsn', 'an upstream origin next to a public origin ASN, or a private one', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 64496\n  upstreamOriginAsn: 64512']), [
    'sites/ams.yaml:25:12: bgp.peers[0].asn: 64501 is not bgp.upstreamOriginAsn 64512; behind an upstream that originates for the sites, every peer is that upstream (another one would pass the private AS 64496 on, or originate with its own ASN, which the ROAs do not name)',
    'sites/ams.yaml:30:12: bgp.peers[1].asn: 64501 is not bgp.upstreamOriginAsn 64512; behind an upstream that originates for the sites, every peer is that upstream (another one would pass the private AS 64496 on, or originate with its own ASN, which the ROAs do not name)',
    'sites/cdn.yaml:45:22: bgp.upstreamOriginAsn: 64512 is a private ASN; it must be the public ASN of the upstream that originates the prefixes',
    'sites/cdn.yaml:45:22: bgp.upstreamOriginAsn: 64512 is set but bgp.originAsn 64496 is public, so the internet sees 64496 as the origin; remove upstreamOriginAsn',
    'sites/nyc.yaml:21:12: bgp.peers[0].asn: 64502 is not bgp.upstreamOriginAsn 64512; behind an upstream that originates for the sites, every peer is that upstream (another one would pass the private AS 64496 on, or originate with its own ASN, which the ROAs do not name)',
    'sites/nyc.yaml:25:12: bgp.peers[1].asn: 64502 is not bgp.upstreamOriginAsn 64512; behind an upstream that originates for the sites, every peer is that upstream (another one would pass the private AS 64496 on, or originate with its own ASN, which the ROAs do not name)',
  ]],
  ['originAsn', 'a site ASN of older versions: one origin AS for the CDN now', edit(S, [NYC, '# AS: bgp.originAsn in cdn.yaml', 'asn: 65020']), [
    'sites/nyc.yaml:5:1: asn: a site ASN of older anycdn versions; every site now originates the anycast prefixes from one AS, so remove asn here and set bgp: {originAsn: 65020} in cdn.yaml, your public ASN (a private one only with bgp.upstreamOriginAsn)',
  ]],
  // bgp
  ['bgp', 'iBGP: a peer in the CDN\'s own ASN', edit(S, [NYC, 'asn: 64502\n      bfd: true', 'asn: 64496\n      bfd: true']), [
    'sites/nyc.yaml:21:12: bgp.peers[0].asn: 64496 is bgp.originAsn, the CDN\'s own; upstream sessions are eBGP, use the upstream\'s ASN',
  ]],
  ['bgp', 'IPv6 peer, dns host without address6', edit(S, [NYC, '    address6: 2001:db8:b::76\n', '']), [
    'sites/nyc.yaml:24:16: bgp.peers[1].address: 2001:db8:b::1 is IPv6 but dns host nyc-lb2 has no address6; add one or use an IPv4 peer',
  ]],
  ['bgp', 'metal site without an IPv4 peer', edit(S, [NYC, '    - name: transit1\n      address: 198.51.100.65\n      asn: 64502\n      bfd: true\n', '']), [
    'sites/nyc.yaml:18:3: bgp.peers: metal site nyc needs an IPv4 peer to announce anycast prefix a 192.0.2.0/24',
  ]],
  ['bgp', 'metal site without an IPv6 peer', edit(S, [NYC, '    - name: transit1-v6\n      address: 2001:db8:b::1\n      asn: 64502\n', '']), [
    'sites/nyc.yaml:18:3: bgp.peers: metal site nyc needs an IPv6 peer to announce anycast prefix a 2001:db8:53::/48',
  ]],
  ['bgp', 'keepalive above a third of the hold time', edit(S, [NYC, 'bgp:\n', 'bgp:\n  holdTimeSec: 6\n']), [
    'sites/nyc.yaml:17:1: bgp.keepaliveTimeSec: 3 must be at most a third of holdTimeSec (6)',
  ]],
  // bfd
  ['bfd', 'multihop BFD asked of a session that is multihop already', edit(S, [AMS, '      asn: 64501\n      bfd: true\n\n', '      asn: 64501\n      multihop: 2\n      bfd: { multihop: true }\n\n']), [
    'sites/ams.yaml:32:24: bgp.peers[1].bfd.multihop: transit1-v6 is a multihop session (multihop 2), whose BFD is multihop already; remove bfd.multihop',
  ]],
  ['bfd', 'an FRR upstream with GTSM runs multihop BFD: single-hop here never comes up', edit(S, [AMS, PW, `${PW}      ttlSecurity: true\n      implementation: frr\n`]), [
    'sites/ams.yaml:26:12: bgp.peers[0].bfd: FRR runs multihop BFD (UDP 4784) for a neighbor with ttl-security, and this side runs single-hop (3784): BFD never comes up while BGP does, so failover waits for the hold timer; set bfd: { multihop: true }',
  ]],
  ['bfd', 'multihop BFD towards a Junos upstream on a direct session', edit(S, [AMS, '      asn: 64501\n      bfd: true\n\n', '      asn: 64501\n      bfd: { multihop: true }\n      implementation: junos\n\n']), [
    'sites/ams.yaml:31:24: bgp.peers[1].bfd.multihop: junos runs single-hop BFD (UDP 3784) for a directly connected session, and this side runs multihop (4784): BFD never comes up while BGP does, so failover waits for the hold timer; remove bfd.multihop',
  ]],
  // communities
  ['communities', 'well-known communities on the anycast announcements', edit(S, [AMS, PW, `${PW}      communities: ["64501:100", "65535:666", "65535:65281", "65535:0", "65535:65282", "65535:65283", "65535:65284"]\n`]), [
    'sites/ams.yaml:28:34: bgp.peers[0].communities[1]: 65535:666 is BLACKHOLE (RFC 7999), which asks the upstream to drop all traffic to the anycast prefixes; remove it',
    "sites/ams.yaml:28:47: bgp.peers[0].communities[2]: 65535:65281 is NO_EXPORT (RFC 1997), which keeps the anycast prefixes inside the upstream's AS, so the internet never sees this site; remove it, or set internal: true in cdn.yaml if the CDN is meant to stay inside the upstream's network",
    'sites/ams.yaml:28:62: bgp.peers[0].communities[3]: 65535:0 is GRACEFUL_SHUTDOWN (RFC 8326), which makes upstreams prefer any other path, for good (anycdn sends it itself while a site drains); remove it',
    "sites/ams.yaml:28:73: bgp.peers[0].communities[4]: 65535:65282 is NO_ADVERTISE (RFC 1997), which stops the upstream from passing the anycast prefixes to any other router; remove it, or set internal: true in cdn.yaml if the CDN is meant to stay inside the upstream's network",
    "sites/ams.yaml:28:88: bgp.peers[0].communities[5]: 65535:65283 is NO_EXPORT_SUBCONFED (RFC 1997), which keeps the anycast prefixes inside the upstream's confederation member AS; remove it, or set internal: true in cdn.yaml if the CDN is meant to stay inside the upstream's network",
  ]],
  ['communities', 'an internal CDN may scope its announcements, never blackhole them (leading zeros change nothing)', edit(S, [AMS, PW, `${PW}      communities: ["65535:65281", "065535:0666"]\n`], [CDN, 'imageHost:', 'internal: true\nimageHost:']), [
    'sites/ams.yaml:28:36: bgp.peers[0].communities[1]: 065535:0666 is BLACKHOLE (RFC 7999), which asks the upstream to drop all traffic to the anycast prefixes; remove it',
  ]],
  // birdNames
  ['birdNames', 'a peer named like a BGP attribute', edit(S, [NYC, 'name: transit1-v6', 'name: path']), [
    'sites/nyc.yaml:23:13: bgp.peers[1].name: path makes the bird protocol name bgp_path, which is a bird keyword (a BGP attribute); rename the peer, such as path-1',
  ]],
  ['birdNames', 'a hyphenated peer name that becomes a BGP attribute', edit(S, [AMS, 'name: transit1\n', 'name: next-hop\n']), [
    'sites/ams.yaml:23:13: bgp.peers[0].name: next-hop makes the bird protocol name bgp_next_hop, which is a bird keyword (a BGP attribute); rename the peer, such as next-hop-1',
  ]],
  // vrrp
  ['vrrp', 'a router id twice on one segment', nycOnAmsSegment(10), [
    'sites/nyc.yaml:8:8: subnets.lan: 198.51.100.0/26 overlaps 198.51.100.0/26 (subnets.lan of site ams); give each segment its own prefix',
    'sites/nyc.yaml:13:20: vip.virtualRouterId: 10 is already used on segment 198.51.100.0/26 by site ams; pick another id (1-255)',
  ]],
  ['vrrp', 'advert interval not in centiseconds', edit(S, [NYC, 'advertIntervalMs: 100', 'advertIntervalMs: 105']), [
    'sites/nyc.yaml:14:21: vip.advertIntervalMs: 105 must be a multiple of 10 (VRRPv3 counts centiseconds)',
  ]],
  ['vrrp', 'lb pair on different interfaces', edit(S, [NYC, '    address6: 2001:db8:b::76\n', '    address6: 2001:db8:b::76\n    interface: eth1\n']), [
    'sites/nyc.yaml:36:16: hosts[1].interface: eth1 differs from nyc-lb1\'s eth0; the lb pair shares one VRRP segment',
  ]],
  // platform
  ['platform', 'aws site without region', edit(S, [SIN, 'region: ap-southeast-1\n', '']), [
    'sites/sin.yaml:7:11: region: aws site sin needs region, such as eu-west-1',
  ]],
  ['platform', 'aws site without Elastic IP', edit(S, [SIN, '  elasticIp:\n    address: 198.51.100.130\n    allocationId: eipalloc-0a1b2c3d4e5f60718\n', '']), [
    'sites/sin.yaml:14:1: vip.elasticIp: aws site sin needs elasticIp {address, allocationId}: the address published in DNS',
  ]],
  ['platform', 'metal site with an Elastic IP', edit(S, [NYC, '  preempt: false\n', '  preempt: false\n  elasticIp:\n    address: 203.0.113.31\n    allocationId: eipalloc-0a1b2c3d\n']), [
    'sites/nyc.yaml:16:3: vip.elasticIp: metal site nyc publishes vip.address itself; remove elasticIp',
  ]],
  ['platform', 'metal site with a region', edit(S, [NYC, 'platform: metal', 'platform: metal\nregion: us-east-1']), [
    'sites/nyc.yaml:5:9: region: only aws sites take a region; remove it from metal site nyc',
  ]],
  ['platform', 'metal site with availability zones', edit(S, [NYC, 'platform: metal', 'platform: metal\navailabilityZones: [us-east-1a]']), [
    'sites/nyc.yaml:5:1: availabilityZones: only aws sites take availability zones; remove them from metal site nyc',
  ]],
  ['platform', 'a zone of another region, and a zone twice', edit(S, [SIN, '[ap-southeast-1a, ap-southeast-1b, ap-southeast-1c]', '[ap-southeast-1a, ap-southeast-2b, ap-southeast-1a]']), [
    'sites/sin.yaml:39:38: availabilityZones[1]: ap-southeast-2b is not in region ap-southeast-1; use a zone such as ap-southeast-1b',
    'sites/sin.yaml:39:55: availabilityZones[2]: ap-southeast-1a is listed twice; remove one',
  ]],
  // awsNetwork (what EC2 can build; these were cdk synth's own checks, which anycdn validate missed)
  ['awsNetwork', 'an IPv6 subnet on an aws site', edit(S, [SIN, '  public: 10.30.0.0/24', '  public: 10.30.0.0/24\n  public6: 2001:db8:c::/64']), [
    "sites/sin.yaml:13:12: subnets.public6: aws site sin takes IPv4 subnets only (the VPC's IPv6 prefix is assigned by AWS); remove 2001:db8:c::/64",
  ]],
  ['awsNetwork', 'an IPv6 host address on an aws site', edit(S, [SIN, '    address: 10.30.0.12\n', '    address: 10.30.0.12\n    address6: 2001:db8:30::12\n']), [
    'sites/sin.yaml:29:15: hosts[1].address6: 2001:db8:30::12 (sin-lb2) is IPv6, but aws site sin has no IPv6 subnet; remove it',
  ]],
  ['awsNetwork', 'a host on an address AWS keeps', edit(S, [SIN, '    address: 10.30.0.22', '    address: 10.30.0.3']), [
    'sites/sin.yaml:36:14: hosts[3].address: 10.30.0.3 (sin-cache2) is reserved by AWS in 10.30.0.0/24 (the first four and the last address); pick another',
  ]],
  ['awsNetwork', 'the VIP on the last address of its subnet', edit(S, [SIN, '  address: 10.30.0.10', '  address: 10.30.0.255']), [
    'sites/sin.yaml:15:12: vip.address: 10.30.0.255 is reserved by AWS in 10.30.0.0/24 (the first four and the last address); pick another',
  ]],
  ['awsNetwork', 'an lb host outside the VIP subnet', edit(S, [SIN, '  public: 10.30.0.0/24', '  public: 10.30.0.0/24\n  second: 10.30.1.0/24'], [SIN, '    address: 10.30.0.12', '    address: 10.30.1.12']), [
    "sites/sin.yaml:29:14: hosts[1].address: lb host sin-lb2 is in subnets.second, but the VIP is in subnets.public; EC2 moves a private address only within one subnet, so put the lb pair in the VIP's subnet",
  ]],
  ['awsNetwork', 'subnets a VPC cannot hold', edit(S, [SIN, '  public: 10.30.0.0/24', '  public: 10.30.0.0/24\n  far: 10.99.0.0/24\n  tiny: 10.30.1.0/30']), [
    "sites/sin.yaml:11:1: subnets: the smallest prefix covering them is 10.0.0.0/9, wider than a VPC can be (/16); keep the site's subnets inside one /16",
    'sites/sin.yaml:14:9: subnets.tiny: 10.30.1.0/30 must be a /16 to /28 for an EC2 subnet',
  ]],
  // awsPeers
  ['awsPeers', 'BGP peers on an aws site', edit(S, [SIN, '\nhosts:', '\nbgp:\n  peers:\n    - name: transit1\n      address: 10.30.0.1\n      asn: 64501\n\nhosts:']), [
    'sites/sin.yaml:23:3: bgp.peers: aws site sin is announced by Global Accelerator (stack anycdn-global); remove its BGP peers',
  ]],
  // stackNames
  ['stackNames', 'a site named like a shared stack', (() => {
    const { [NYC]: nyc, ...rest } = S;
    return { ...rest, 'sites/global.yaml': nyc!.replace('id: nyc', 'id: global') };
  })(), [
    'sites/global.yaml:2:5: id: global is the name of a stack of its own (anycdn-global); pick another site id',
  ]],
  // origins
  ['origins', 'the same origin twice', edit(S, [CDN, ORIGIN_BLOCK, originList('- s3: { bucket: anycdn-example-images, region: eu-west-1 }', '- http: { url: "https://anycdn-example-images.s3.eu-west-1.amazonaws.com" }')]), [
    'sites/cdn.yaml:33:18: origin[1].http.url: anycdn-example-images.s3.eu-west-1.amazonaws.com:443 is already origin[0]; each origin must be a different server, remove this one or point it elsewhere',
  ]],
  ['origins', 'a replica in the primary bucket\'s region', edit(S, [CDN, ORIGIN_BLOCK, originList('- s3: { bucket: anycdn-example-images, region: eu-west-1 }', '- s3: { bucket: anycdn-example-images-replica, region: eu-west-1 }')]), [
    'sites/cdn.yaml:33:58: origin[1].s3.region: eu-west-1 is the region of the primary bucket anycdn-example-images, so one regional outage takes both; put the replica in another region',
  ]],
  ['origins', 'a third S3 origin', edit(S, [CDN, ORIGIN_BLOCK, originList('- s3: { bucket: a-images, region: eu-west-1 }', '- s3: { bucket: b-images, region: eu-central-1 }', '- s3: { bucket: c-images, region: us-east-1 }')]), [
    'sites/cdn.yaml:34:19: origin[2].s3.bucket: c-images is a third S3 origin; anycdn-origin owns the first and replicates it to the second only, so list an HTTP origin here or remove it',
  ]],
  ['origins', 'a port out of range and the image host as origin', edit(S, [CDN, ORIGIN_BLOCK, originList('- http: { url: "http://o.example.net:70000" }', '- http: { url: "https://img.cdn.example.net" }')]), [
    'sites/cdn.yaml:32:18: origin[0].http.url: port 70000 is not 1..65535, got http://o.example.net:70000; fix the port',
    'sites/cdn.yaml:33:18: origin[1].http.url: https://img.cdn.example.net is the image host itself, so a miss would loop through the CDN; name the server behind it',
  ]],
  // dns
  ['dns', 'image host outside the zone', edit(S, [CDN, 'imageHost: img.cdn.example.net', 'imageHost: img.example.org']), [
    'sites/cdn.yaml:3:12: imageHost: img.example.org is not below dns.zone cdn.example.net; use a name such as img.cdn.example.net',
  ]],
  ['dns', 'image host at the zone apex', edit(S, [CDN, 'imageHost: img.cdn.example.net', 'imageHost: cdn.example.net']), [
    'sites/cdn.yaml:3:12: imageHost: cdn.example.net is not below dns.zone cdn.example.net; use a name such as img.cdn.example.net',
  ]],
  ['dns', 'hostmaster at the zone apex', edit(S, [CDN, 'hostmaster: hostmaster.example.net', 'hostmaster: cdn.example.net']), [
    'sites/cdn.yaml:8:15: dns.hostmaster: cdn.example.net is the zone apex; use a mailbox name such as hostmaster.cdn.example.net',
  ]],
  ['dns', 'a name server listed twice', edit(S, [CDN, '[ns1.cdn.example.net, ns2.cdn.example.net]', '[ns1.cdn.example.net, ns1.cdn.example.net]'], [CDN, 'nameservers: [ns2.cdn.example.net]', 'nameservers: []']), [
    'sites/cdn.yaml:7:38: dns.nameservers[1]: ns1.cdn.example.net is listed twice; remove one',
  ]],
  ['dns', 'the image host as a name server', edit(S, [CDN, '[ns1.cdn.example.net, ns2.cdn.example.net]', '[ns1.cdn.example.net, img.cdn.example.net]'], [CDN, 'nameservers: [ns2.cdn.example.net]', 'nameservers: [img.cdn.example.net]']), [
    'sites/cdn.yaml:7:38: dns.nameservers[1]: img.cdn.example.net is the image host; name servers need their own names',
  ]],
  ['parentZone', 'a parent zone that is the zone itself', edit(S, [CDN, '  ttlSec: 60\n', '  ttlSec: 60\n  parentZone: { hostedZoneId: Z0123456789ABCDEFGHIJ, name: cdn.example.net }\n']), [
    'sites/cdn.yaml:10:60: dns.parentZone.name: cdn.example.net is not above dns.zone cdn.example.net; use the zone that delegates it, such as example.net',
  ]],
  ['parentZone', 'a parent zone beside the zone', edit(S, [CDN, '  ttlSec: 60\n', '  ttlSec: 60\n  parentZone: { hostedZoneId: Z0123456789ABCDEFGHIJ, name: example.org }\n']), [
    'sites/cdn.yaml:10:60: dns.parentZone.name: example.org is not above dns.zone cdn.example.net; use the zone that delegates it, such as example.net',
  ]],
  ['dns', 'a shield that is not a site', edit(S, [CDN, 'shield: ams', 'shield: fra']), [
    'sites/cdn.yaml:41:9: shield: fra is not a site; use one of ams, nyc, sin',
  ]],
  // haproxy
  // monitoring
  ['acme', 'an issuer that is no host, and a certRef that is the file haproxy serves', edit(S, [CDN, 'shield: ams\n', 'shield: ams\nacme:\n  email: hostmaster@example.net\n  issuer: ams-lb9\n  tsigKeyRef: ssm:/anycdn/acme/tsig\n  certRef: file:/etc/haproxy/certs/img.cdn.example.net.pem\n']), [
    'sites/cdn.yaml:44:11: acme.issuer: ams-lb9 is no host of the model; name one of the model\'s hosts, such as ams-cache1',
    'sites/cdn.yaml:46:12: acme.certRef: file:/etc/haproxy/certs/img.cdn.example.net.pem is the file haproxy serves at ams (haproxy.https.certPath), not a store to fetch from; store it elsewhere, such as ssm:/anycdn/tls/img.cdn.example.net',
  ]],
  ['acme', 'no site serving HTTPS', edit(S, [CDN, 'shield: ams\n', 'shield: ams\nacme:\n  email: hostmaster@example.net\n  issuer: ams-lb1\n  tsigKeyRef: ssm:/anycdn/acme/tsig\n  certRef: ssm:/anycdn/tls/img\n'], [AMS, 'haproxy:\n  https:\n    certPath: /etc/haproxy/certs/img.cdn.example.net.pem\n', '']), [
    'sites/cdn.yaml:42:1: acme: no site has haproxy.https, so no lb host would serve the certificate; add haproxy.https to the sites that serve HTTPS, or remove acme',
  ]],
  ['monitoring', 'the Prometheus server outside every scrape subnet', edit(S, [CDN, 'shield: ams\n', 'shield: ams\nmonitoring:\n  prometheus: 198.51.100.200\n  scrapeFrom: [198.51.100.208/28]\n']), [
    'sites/cdn.yaml:43:15: monitoring.prometheus: 198.51.100.200 is in no monitoring.scrapeFrom prefix, so every exporter would refuse it; add its prefix to scrapeFrom',
  ]],
  ['monitoring', 'a scrape subnet with host bits', edit(S, [CDN, 'shield: ams\n', 'shield: ams\nmonitoring:\n  prometheus: 198.51.100.200\n  scrapeFrom: [198.51.100.192/28, 198.51.100.1/24]\n']), [
    'sites/cdn.yaml:44:35: monitoring.scrapeFrom[1]: 198.51.100.1/24 has host bits set; use the network 198.51.100.0/24',
  ]],
  ['monitoring', 'a runbooks URL with a fragment', edit(S, [CDN, 'shield: ams\n', 'shield: ams\nmonitoring:\n  prometheus: 198.51.100.200\n  scrapeFrom: [198.51.100.192/28]\n  runbooksUrl: https://wiki.example.net/runbooks#top\n']), [
    'sites/cdn.yaml:45:16: monitoring.runbooksUrl: must be the http(s) URL of docs/runbooks.md as your team publishes it, such as https://git.example.net/cdn/anycdn/-/blob/main/docs/runbooks.md (no query, fragment or credentials), got "https://wiki.example.net/runbooks#top"',
  ]],
  ['monitoring', 'the checker status port on an exporter port', edit(S, [CDN, '  rise: 5\n', '  rise: 5\n  statusPort: 9100\n'], [CDN, 'shield: ams\n', 'shield: ams\nmonitoring:\n  prometheus: 198.51.100.200\n  scrapeFrom: [198.51.100.192/28]\n']), [
    "sites/cdn.yaml:30:15: healthcheck.statusPort: 9100 is the node exporter's port; pick another port",
  ]],
  // ring: haproxy server ids
  ['ring', 'two caches of a site with one ringId', edit(S, [AMS, '    address: 198.51.100.21\n', '    address: 198.51.100.21\n    ringId: 7\n'], [AMS, '    address: 198.51.100.22\n', '    address: 198.51.100.22\n    ringId: 7\n']), [
    'sites/ams.yaml:51:13: hosts[3].ringId: ams-cache2 gets haproxy server id 7 (its ringId), as ams-cache1 does (its ringId), and two caches of one site cannot share a place on the ring; set ringId on one of them to an id no other cache of ams has, such as ringId: 8',
  ]],
  ['ring', 'two cache names that derive the same id', edit(S, [AMS, 'name: ams-cache1\n', 'name: ams-cache248\n'], [AMS, 'name: ams-cache2\n', 'name: ams-cache3385\n']), [
    'sites/ams.yaml:46:11: hosts[3].name: ams-cache3385 gets haproxy server id 455290 (derived from its name), as ams-cache248 does (derived from its name), and two caches of one site cannot share a place on the ring; set ringId on one of them to an id no other cache of ams has, such as ringId: 455291',
  ]],
  ['ring', 'a ringId on an lb host', edit(S, [AMS, '    address: 198.51.100.12\n', '    address: 198.51.100.12\n    ringId: 9\n']), [
    'sites/ams.yaml:41:13: hosts[1].ringId: ams-lb2 is not a cache host, and only caches sit on haproxy\'s ring; remove ringId',
  ]],
  ['haproxy', 'stats page on every address', edit(S, [NYC, 'bgp:\n', 'haproxy:\n  statsAddress: 0.0.0.0\n\nbgp:\n']), [
    'sites/nyc.yaml:18:17: haproxy.statsAddress: 0.0.0.0 listens on every address, the VIP included; use 127.0.0.1 or a management address',
  ]],
  ['haproxy', 'stats page on the VIP', edit(S, [NYC, 'bgp:\n', 'haproxy:\n  statsAddress: 198.51.100.74\n\nbgp:\n']), [
    'sites/nyc.yaml:18:17: haproxy.statsAddress: 198.51.100.74 is the image VIP; the stats page must never be public, use 127.0.0.1 or a management address',
  ]],
  ['haproxy', 'a stats address on an aws site, where no security group admits it', edit(S, [SIN, '\nhosts:', '\nhaproxy:\n  statsAddress: 10.30.0.5\n\nhosts:']), [
    'sites/sin.yaml:23:17: haproxy.statsAddress: 10.30.0.5 is unreachable on aws site sin: no security group admits the stats port; keep 127.0.0.1 and reach it with SSM port forwarding (AWS-StartPortForwardingSession)',
  ]],
  // drain
  ['drain', 'a drained site with more than one other site and no fallback', edit(S, [AMS, '\nhosts:\n', '\nstate: drained\n\nhosts:\n']), [
    'sites/ams.yaml:33:8: state: site ams is drained but has no fallback; set drain.fallbackSite to the nearest other site (nyc, sin)',
  ]],
  ['drain', 'a fallback that is the site itself, and one that is no site', edit(S, [AMS, '\nhosts:\n', '\ndrain:\n  fallbackSite: ams\n\nhosts:\n'], [NYC, '\nhosts:\n', '\ndrain:\n  fallbackSite: lon\n\nhosts:\n']), [
    'sites/ams.yaml:34:17: drain.fallbackSite: "ams" is this site; name the nearest other site (nyc, sin)',
    'sites/nyc.yaml:28:17: drain.fallbackSite: "lon" is not a site; use one of ams, sin',
  ]],
  ['drain', 'two drained sites falling back to each other', edit(S, [AMS, '\nhosts:\n', '\nstate: drained\ndrain:\n  fallbackSite: nyc\n\nhosts:\n'], [NYC, '\nhosts:\n', '\nstate: drained\ndrain:\n  fallbackSite: ams\n\nhosts:\n']), [
    'sites/ams.yaml:35:17: drain.fallbackSite: nyc is drained too; a drained site must fall back to one that serves, name another or undrain nyc',
    'sites/nyc.yaml:29:17: drain.fallbackSite: ams is drained too; a drained site must fall back to one that serves, name another or undrain ams',
  ]],
  ['drain', 'every site drained', edit(S, [AMS, '\nhosts:\n', '\nstate: drained\ndrain:\n  fallbackSite: nyc\n\nhosts:\n'], [NYC, '\nhosts:\n', '\nstate: drained\ndrain:\n  fallbackSite: sin\n\nhosts:\n'], [SIN, '\nhosts:\n', '\nstate: drained\ndrain:\n  fallbackSite: ams\n\nhosts:\n']), [
    'sites/ams.yaml:35:17: drain.fallbackSite: nyc is drained too; a drained site must fall back to one that serves, name another or undrain nyc',
    'sites/nyc.yaml:29:17: drain.fallbackSite: sin is drained too; a drained site must fall back to one that serves, name another or undrain sin',
    'sites/sin.yaml:22:8: state: every site is drained, and the CDN would vanish from the internet; keep at least one site active',
    'sites/sin.yaml:24:17: drain.fallbackSite: ams is drained too; a drained site must fall back to one that serves, name another or undrain ams',
  ]],
  ['drain', 'both lb hosts of the pair drained, and every cache', edit(S, [AMS, 'address6: 2001:db8:a::11\n', 'address6: 2001:db8:a::11\n    state: drained\n'], [AMS, 'address6: 2001:db8:a::12\n', 'address6: 2001:db8:a::12\n    state: drained\n'], [AMS, 'address: 198.51.100.21\n', 'address: 198.51.100.21\n    state: drained\n'], [AMS, 'address: 198.51.100.22', 'address: 198.51.100.22\n    state: drained']), [
    'sites/ams.yaml:43:12: hosts[1].state: every dns host of ams is drained; keep at least one dns host announcing, or drain the site (state: drained)',
    'sites/ams.yaml:43:12: hosts[1].state: every lb host of ams is drained; never drain both lb hosts of a pair',
    'sites/ams.yaml:53:12: hosts[3].state: every cache host of ams is drained; keep at least one cache serving',
  ]],
  ['haproxy', 'the shield redirecting HTTP to HTTPS', edit(S, [AMS, 'certPath: /etc/haproxy/certs/img.cdn.example.net.pem', 'certPath: /etc/haproxy/certs/img.cdn.example.net.pem\n    redirectHttp: true']), [
    'sites/ams.yaml:20:19: haproxy.https.redirectHttp: ams is the origin shield, and the other sites\' caches fetch from it over HTTP; set redirectHttp: false',
  ]],
  ['images', 'a Squid-only shield, which cannot make derived images', edit(S, [CDN, '\nshield: ams\n', '\nshield: nyc\nimages:\n  transforms:\n    widths: [64]\n']), [
    'sites/nyc.yaml:27:1: hosts: site nyc has no active nginx cache, and it is the shield, where derived images are made; Squid cannot resize images: add a host with roles: [cache] and cacheEngine: nginx',
  ]],
];

describe('rules', () => {
  test.each(RULE_CASES)('%s: %s', (_rule, _what, texts, expected) => {
    expect(errors(texts)).toEqual(expected);
  });

  test('birdNames refuses every peer name ident() would refuse, and the suggested name loads', () => {
    for (const keyword of BIRD_KEYWORDS) {
      const name = keyword.slice('bgp_'.length).replace(/_/g, '-');
      const lines = errors(edit(S, [NYC, 'name: transit1-v6', `name: ${name}`]));
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^sites/nyc\\.yaml:23:13: bgp\\.peers\\[1\\]\\.name: ${name} makes the bird protocol name ${keyword}, .*; rename the peer, such as ${name}-1$`))]);
      expect(() => ident('bgp', name)).toThrow(/a bird keyword/);
      expect(errors(edit(S, [NYC, 'name: transit1-v6', `name: ${name}-1`]))).toEqual([]);
      expect(ident('bgp', `${name}-1`).text).toBe(`${keyword}_1`);
    }
  });
});

test('stackNames refuses exactly the shared stacks of lib/cloud/stacks.ts', () => {
  expect([...SHARED_STACK_NAMES].sort()).toEqual([GLOBAL, ORIGIN, ORIGIN_REPLICA].sort());
});

describe('delegation keeps RFC 2182 diversity (dns.parentZone)', () => {
  const withParent = (texts: Texts): Texts => edit(texts, [CDN, '  ttlSec: 60\n', '  ttlSec: 60\n  parentZone: { hostedZoneId: Z0123456789ABCDEFGHIJ, name: example.net }\n']);
  const without = (texts: Texts, ...files: string[]): Texts => Object.fromEntries(Object.entries(texts).filter(([f]) => !files.includes(f)));

  test('the shipped model, delegated: its name servers are announced by ams and nyc, so it loads', () => {
    expect(errors(withParent(S))).toEqual([]);
  });

  test('every name server at one BGP site: refused, naming the site and the fix', () => {
    const texts = withParent(without(S, NYC));
    expect(errors(texts)).toContain(
      'sites/cdn.yaml:10:3: dns.parentZone: every name server (ns1.cdn.example.net, ns2.cdn.example.net) is reached only at site ams, so every first lookup lands there and fails with it (RFC 2182); announce their prefixes from a second BGP site (bgp.announce), or add a metal site with peers',
    );
  });

  test('every name server behind the one accelerator: refused, naming the fix', () => {
    const texts = withParent(edit(without(S, NYC, AMS), [CDN, 'shield: ams\n', '']));
    expect(errors(texts)).toContain(
      'sites/cdn.yaml:10:3: dns.parentZone: every name server (ns1.cdn.example.net, ns2.cdn.example.net) is reached only behind the one Global Accelerator (no BGP site announces their prefixes), so one service in one provider answers every first lookup (RFC 2182); add a metal site that announces them, or delegate to name servers elsewhere as well',
    );
  });
});

describe('schema and values', () => {
  test.each<[what: string, texts: Texts, expected: string[]]>([
    ['ASN 0', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 0']), ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got 0']],
    ['ASN above 32 bits', edit(S, [CDN, 'originAsn: 64496', 'originAsn: 4294967296']), ['sites/cdn.yaml:44:14: bgp.originAsn: must be 1..4294967295, got 4294967296']],
    ['ASN as a string', edit(S, [CDN, 'originAsn: 64496', 'originAsn: "64496"']), ['sites/cdn.yaml:44:14: bgp.originAsn: must be a number, got "64496"']],
    ['no origin AS', edit(S, [CDN, '  originAsn: 64496\n', '']), ['sites/cdn.yaml:43:1: bgp.originAsn: is required (a number)']],
    ['peer ASN float', edit(S, [AMS, 'asn: 64501\n      bfd: true\n      passwordRef', 'asn: 64501.5\n      bfd: true\n      passwordRef']), [
      'sites/ams.yaml:25:12: bgp.peers[0].asn: must be a whole number, got 64501.5',
    ]],
    ['a missing required value', edit(S, [NYC, '    address: 198.51.100.86', '    addres: 198.51.100.86']), [
      'sites/nyc.yaml:40:5: hosts[3].address: is required (a string)',
      'sites/nyc.yaml:43:5: hosts[3].addres: unknown key (did you mean address?); allowed here: address, address6, cacheEngine, interface, name, ringId, roles, state, vrrpPriority',
    ]],
    ['a missing enum', edit(S, [SIN, 'platform: aws\n', '']), ['sites/sin.yaml:5:1: platform: is required: one of "metal", "aws"']],
    ['a bad enum', edit(S, [SIN, 'platform: aws', 'platform: gcp']), ['sites/sin.yaml:7:11: platform: must be one of "metal", "aws", got "gcp"']],
    ['a boolean written as yes (YAML 1.2)', edit(S, [NYC, 'bfd: true\n    - name: transit1-v6', 'bfd: yes\n    - name: transit1-v6']), [
      'sites/nyc.yaml:22:12: bgp.peers[0].bfd: must be true, false or {intervalMs: N, multiplier: N}, got "yes"',
    ]],
    ['a bad subnet name (record key)', edit(S, [NYC, 'lan6:', 'Lan6:']), [
      'sites/nyc.yaml:9:3: subnets.Lan6: key must start with a letter and hold only lowercase letters, digits and hyphens (at most 32), got "Lan6"',
    ]],
    ['a bad status in cache.validSec (record key)', edit(S, [CDN, '"404": 60', '"600": 60']), [
      'sites/cdn.yaml:38:42: cache.validSec.600: key must be an HTTP status such as 200, or any, got "600"',
    ]],
    ['no subnets', edit(S, [SIN, 'subnets:\n  public: 10.30.0.0/24\n', 'subnets: {}\n']), ['sites/sin.yaml:11:1: subnets: needs at least one subnet, got {}']],
    ['origin with both forms', edit(S, [CDN, 'origin:\n', 'origin:\n  http:\n    url: https://o.example.net\n']), [
      'sites/cdn.yaml:31:1: origin: must hold exactly one of s3: {bucket, region} or http: {url}, or a list of them in priority order, got {"http":{"url":"https://o.example.net"},"s3":{"bucket":"anyc...',
    ]],
    ['origin empty', edit(S, [CDN, '  s3:\n    bucket: anycdn-example-images\n    region: eu-west-1\n', '  {}\n']), [
      'sites/cdn.yaml:31:1: origin: must hold exactly one of s3: {bucket, region} or http: {url}, or a list of them in priority order, got {}',
    ]],
    ['a parent zone id that is no hosted-zone id', edit(S, [CDN, '  ttlSec: 60\n', '  ttlSec: 60\n  parentZone: { hostedZoneId: example.net, name: example.net }\n']), [
      'sites/cdn.yaml:10:31: dns.parentZone.hostedZoneId: must be a Route 53 hosted-zone id such as Z0123456789ABCDEFGHIJ, got "example.net"',
    ]],
    ['a region that is no region', edit(S, [SIN, 'region: ap-southeast-1', 'region: Mars']), ['sites/sin.yaml:8:9: region: must be an AWS region such as eu-west-1, got "Mars"']],
    ['preempt true', edit(S, [NYC, 'preempt: false', 'preempt: true']), ['sites/nyc.yaml:15:12: vip.preempt: must be false (nopreempt) or {delaySec: N}, got true']],
    ['a list instead of a mapping', { ...S, [NYC]: '- a\n- b\n' }, ['sites/nyc.yaml:1:1: the file must hold a mapping of keys to values']],
    ['origin list too long', edit(S, [CDN, ORIGIN_BLOCK, originList(...[1, 2, 3, 4, 5].map((n) => `- http: { url: "https://o${n}.example.net" }`))]), [
      'sites/cdn.yaml:31:1: origin: must list at most 4 origins (each dead one adds a connect timeout to a miss), got [{"http":{"url":"https://o1.example.net"}},{"http":{"url":"h...',
    ]],
    ['origin list empty', edit(S, [CDN, ORIGIN_BLOCK, 'origin: []\n']), ['sites/cdn.yaml:31:1: origin: must list at least one origin, got []']],
    ['a bad URL inside the origin list', edit(S, [CDN, ORIGIN_BLOCK, originList('- s3: { bucket: anycdn-example-images, region: eu-west-1 }', '- http: { url: "https://o.example.net/images?x=1" }')]), [
      'sites/cdn.yaml:33:18: origin[1].http.url: must be an origin base URL such as https://origin.example.net (no path, query or credentials), got "https://o.example.net/images?x=1"',
    ]],
    ['an empty global file', { ...S, [CDN]: '# nothing yet\n' }, [
      'sites/cdn.yaml:1:1: anycast: is required (a mapping)',
      'sites/cdn.yaml:1:1: bgp: is required (a mapping)',
      'sites/cdn.yaml:1:1: dns: is required (a mapping)',
      'sites/cdn.yaml:1:1: imageHost: is required (a string)',
      'sites/cdn.yaml:1:1: origin: is required; it must hold exactly one of s3: {bucket, region} or http: {url}, or a list of them in priority order',
    ]],
  ])('%s', (_what, texts, expected) => {
    expect(errors(texts)).toEqual(expected);
  });
});

describe('unknown keys', () => {
  test.each<[what: string, texts: Texts, expected: string]>([
    ['a typo in a nested mapping', edit(S, [AMS, 'advertIntervalMs: 100', 'advertIntervallMs: 100']),
      'sites/ams.yaml:14:3: vip.advertIntervallMs: unknown key (did you mean advertIntervalMs?); allowed here: address, address6, advertIntervalMs, elasticIp, preempt, virtualRouterId'],
    ['a typo in a list item', edit(S, [AMS, 'bfd: true\n      passwordRef', 'bfd: true\n      passwrdRef']),
      'sites/ams.yaml:27:7: bgp.peers[0].passwrdRef: unknown key (did you mean passwordRef?); allowed here: address, asn, bfd, communities, implementation, multihop, name, passwordRef, prepend, ttlSecurity'],
    ['a typo inside a union branch', edit(S, [CDN, 'region: eu-west-1', 'region: eu-west-1\n    regoin: x']),
      'sites/cdn.yaml:35:5: origin.s3.regoin: unknown key (did you mean region?); allowed here: bucket, region'],
    ['a key with no near match', edit(S, [CDN, 'shield: ams', 'shield: ams\nsecret: hunter2']),
      'sites/cdn.yaml:42:1: secret: unknown key; allowed here: $schema, acme, anycast, bgp, cache, dns, healthcheck, imageHost, images, internal, monitoring, origin, shield'],
    ['a plaintext password next to passwordRef', edit(S, [AMS, 'bfd: true\n      passwordRef', 'bfd: true\n      password: hunter2\n      passwordRef']),
      'sites/ams.yaml:27:7: bgp.peers[0].password: unknown key (did you mean passwordRef?); allowed here: address, asn, bfd, communities, implementation, multihop, name, passwordRef, prepend, ttlSecurity'],
  ])('%s', (_what, texts, expected) => {
    expect(errors(texts)).toEqual([expected]);
  });
});

test('a typo of a required key reports the missing key and the typo', () => {
  expect(errors(edit(S, [NYC, 'location:', 'locaton:']))).toEqual([
    'sites/nyc.yaml:2:1: location: is required (a string)',
    'sites/nyc.yaml:3:1: locaton: unknown key (did you mean location?); allowed here: $schema, availabilityZones, bgp, drain, haproxy, hosts, id, location, platform, raw, region, state, subnets, vip',
  ]);
});

describe('YAML syntax', () => {
  test.each<[what: string, texts: Texts, expected: string[]]>([
    ['a duplicate key', edit(S, [AMS, 'platform: metal', 'platform: metal\nplatform: aws']), ['sites/ams.yaml:5:1: yaml: duplicate key "platform"; keep only one']],
    ['a duplicate key in a list item', edit(S, [AMS, '    cacheEngine: nginx\n    address: 198.51.100.22', '    cacheEngine: nginx\n    cacheEngine: squid\n    address: 198.51.100.22']), [
      'sites/ams.yaml:49:5: yaml: duplicate key "cacheEngine"; keep only one',
    ]],
    ['an unclosed flow sequence', edit(S, [NYC, 'roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.86', 'roles: [cache\n    cacheEngine: squid\n    address: 198.51.100.86']), [
      'sites/nyc.yaml:42:5: yaml: flow sequence in block collection must be sufficiently indented and end with a ]',
      'sites/nyc.yaml:42:18: yaml: implicit keys need to be on a single line',
      'sites/nyc.yaml:42:18: yaml: nested mappings are not allowed in compact mappings',
    ]],
    ['a tab as indentation', edit(S, [SIN, '  public: 10.30.0.0/24', '\tpublic: 10.30.0.0/24']), [
      'sites/sin.yaml:12:1: yaml: tabs are not allowed as indentation',
    ]],
    ['two documents in one file', edit(S, [SIN, '# AS: bgp.originAsn in cdn.yaml', '# AS: bgp.originAsn in cdn.yaml\n---\nasn: 1']), [
      'sites/sin.yaml:10:1: yaml: more than one document (---) in the file; keep one mapping per file',
    ]],
    ['an alias without its anchor', edit(S, [SIN, 'region: ap-southeast-1', 'region: *site-region']), [
      'sites/sin.yaml:8:9: yaml: alias *site-region has no anchor &site-region before it; define the anchor first',
    ]],
    ['a list as a key', edit(S, [SIN, '# AS: bgp.originAsn in cdn.yaml', '# AS: bgp.originAsn in cdn.yaml\n? [a, b]\n: 1']), ['sites/sin.yaml:10:3: yaml: a key must be a plain name, not a list, a mapping or empty']],
    ['an empty key', edit(S, [SIN, 'region: ap-southeast-1', 'region: ap-southeast-1\n: 1']), ['sites/sin.yaml:9:1: yaml: a key must be a plain name, not a list, a mapping or empty']],
  ])('%s', (_what, texts, expected) => {
    expect(errors(texts)).toEqual(expected);
  });

  test('an anchor and alias within limits load like the value written out', () => {
    const t = load(edit(S, [NYC, 'asn: 64502\n      bfd: true', 'asn: &upstream 64502\n      bfd: true'], [NYC, 'asn: 64502\n\nhosts', 'asn: *upstream\n\nhosts']));
    expect(t.sites[1]!.bgp.peers.map((p) => p.asn)).toEqual([64502, 64502]);
  });

  test('an alias inside the value it names is an error, not a crash', () => {
    expect(errors(edit(S, [SIN, 'region: ap-southeast-1', 'region: &x [*x]']))).toEqual([
      'sites/sin.yaml:8:13: yaml: alias *x is inside the value anchored &x, which cannot contain itself; write the value out',
    ]);
  });

  test('more than 1000 aliases in one file is one error', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `  - *z${i % 2}`).join('\n');
    expect(errors(edit(S, [SIN, '# AS: bgp.originAsn in cdn.yaml', `# AS: bgp.originAsn in cdn.yaml\nzz: [&z0 a, &z1 b]\nyy:\n${many}`]))).toEqual([
      'sites/sin.yaml:1012:5: yaml: more than 1000 aliases in one file; write the values out',
    ]);
  });
});

describe('YAML merge keys (<<: *anchor)', () => {
  /** nyc's two caches, the second one merged from the first. */
  const CACHES = '  - name: nyc-cache1\n    roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.85\n  - name: nyc-cache2\n    roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.86\n';
  const merged = (first: string) => edit(S, [NYC, CACHES, `  - &cache\n${first}  - <<: *cache\n    name: nyc-cache2\n    address: 198.51.100.86\n`]);
  const FIRST = '    name: nyc-cache1\n    roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.85\n';

  test('load like the mapping written out, the keys of the mapping itself winning', () => {
    const model = (t: ReturnType<typeof load>) => ({ cdn: t.cdn, sites: t.sites });
    expect(model(load(merged(FIRST)))).toEqual(model(load(S)));
  });

  test('an error in merged content points at the text that holds it, for each user', () => {
    expect(errors(merged(FIRST.replace('cacheEngine: squid', 'cacheEngine: squidd')))).toEqual([
      'sites/nyc.yaml:39:18: hosts[2].cacheEngine: must be one of "nginx", "squid", got "squidd"',
      'sites/nyc.yaml:39:18: hosts[3].cacheEngine: must be one of "nginx", "squid", got "squidd"',
    ]);
    expect(errors(merged(FIRST.replace('cacheEngine:', 'cachEngine:')))).toEqual([
      'sites/nyc.yaml:39:5: hosts[2].cachEngine: unknown key (did you mean cacheEngine?); allowed here: address, address6, cacheEngine, interface, name, ringId, roles, state, vrrpPriority',
      'sites/nyc.yaml:39:5: hosts[3].cachEngine: unknown key (did you mean cacheEngine?); allowed here: address, address6, cacheEngine, interface, name, ringId, roles, state, vrrpPriority',
    ]);
  });

  test('a rule error on a merged value points at it too', () => {
    expect(errors(merged(FIRST.replace('roles: [cache]', 'roles: [cache, cache]')))).toEqual([
      'sites/nyc.yaml:38:5: hosts[2].roles: cache is listed twice; remove one',
      'sites/nyc.yaml:38:5: hosts[3].roles: cache is listed twice; remove one',
    ]);
  });

  test('a merge key takes mappings only', () => {
    expect(errors(edit(S, [NYC, '  - name: nyc-cache2\n', '  - <<: [*engine]\n    name: nyc-cache2\n'], [NYC, 'cacheEngine: squid\n    address: 198.51.100.85', 'cacheEngine: &engine squid\n    address: 198.51.100.85']))).toEqual([
      'sites/nyc.yaml:40:10: yaml: a merge key (<<) takes a mapping, an alias of one (<<: *defaults) or a list of them',
    ]);
  });

  test('a tagged merge key is still a merge key, and an empty one is refused, not an internal error', () => {
    // The property test's counterexample: toJS merges `!foo <<:` too, and threw on its null value.
    expect(errors(edit(S, [NYC, 'id: nyc\n', 'id: nyc\n!foo <<: \n']))).toEqual([
      'sites/nyc.yaml:3:10: yaml: a merge key (<<) takes a mapping, an alias of one (<<: *defaults) or a list of them',
    ]);
  });
});

describe('the old anycast.ipv4/ipv6 keys', () => {
  const BLOCK = S[CDN]!.slice(S[CDN]!.indexOf('anycast:\n'), S[CDN]!.indexOf('\nhealthcheck:'));
  const old = (yaml: string) => edit(S, [CDN, BLOCK, yaml]);

  test('get one error that shows the new prefixes[] shape, filled in with their values', () => {
    expect(errors(old('anycast:\n  ipv4: 192.0.2.53/32\n  ipv6: "2001:db8:53::53/128"\n'))).toEqual([
      'sites/cdn.yaml:15:3: anycast.ipv4: the single service address of older anycdn versions; anycast now lists covering prefixes, each with its service address, so write anycast: {prefixes: [{name: a, ipv4: {prefix: 192.0.2.0/24, address: 192.0.2.53}, ipv6: {prefix: "2001:db8:53::/48", address: "2001:db8:53::53"}}]}',
    ]);
  });

  test('the shape it shows loads as written', () => {
    const [line] = errors(old('anycast:\n  ipv4: 198.51.100.253/32\n'));
    const shown = line!.slice(line!.indexOf('write ') + 'write '.length);
    expect(shown).toBe('anycast: {prefixes: [{name: a, ipv4: {prefix: 198.51.100.0/24, address: 198.51.100.253}}]}');
    // The /24 overlaps the shipped sites' segments; on a free block it loads.
    const fixed = shown.replaceAll('198.51.100.', '192.0.2.');
    expect(load(old(`${fixed}\n`)).cdn.anycast.prefixes).toEqual([{ name: 'a', ipv4: { prefix: '192.0.2.0/24', address: '192.0.2.253' }, nameservers: [] }]);
  });

  test('a value that is no address gets the example\'s', () => {
    expect(errors(old('anycast:\n  ipv6: "\\e[2J"\n'))).toEqual([
      'sites/cdn.yaml:15:3: anycast.ipv6: the single service address of older anycdn versions; anycast now lists covering prefixes, each with its service address, so write anycast: {prefixes: [{name: a, ipv4: {prefix: 192.0.2.0/24, address: 192.0.2.53}, ipv6: {prefix: "2001:db8:53::/48", address: "2001:db8:53::53"}}]}',
    ]);
  });
});

describe('switches that allow what is otherwise refused', () => {
  test('anycast.allowShortPrefixes: a /12 the operator holds', () => {
    const t = load(edit(S, [CDN, P4, 'prefix: 192.0.0.0/12, address: 192.0.2.53'], [CDN, 'anycast:\n', 'anycast:\n  allowShortPrefixes: true\n']));
    expect(t.cdn.anycast.prefixes[0]!.ipv4.prefix).toBe('192.0.0.0/12');
  });

  test('internal: private anycast prefixes and VIPs, and the scope communities', () => {
    const t = load(
      edit(
        { ...S, [NYC]: S[NYC]!.replaceAll('198.51.100.', '10.20.0.') },
        [CDN, P4, 'prefix: 10.53.0.0/24, address: 10.53.0.53'],
        [CDN, 'prefix: "2001:db8:53::/48", address: "2001:db8:53::53"', 'prefix: "fd00:53::/48", address: "fd00:53::53"'],
        [CDN, 'imageHost:', 'internal: true\nimageHost:'],
        [AMS, PW, `${PW}      communities: ["65535:65281", "65535:65282", "65535:65283"]\n`],
      ),
    );
    expect([t.cdn.internal, t.cdn.anycast.prefixes[0]!.ipv4.prefix, t.sites.find((x) => x.id === 'nyc')!.vip.address]).toEqual([true, '10.53.0.0/24', '10.20.0.74']);
  });

  test('both default to false, so the shipped model is public and routable', () => {
    expect([load(S).cdn.internal, load(S).cdn.anycast.allowShortPrefixes]).toEqual([false, false]);
  });
});

describe('interface names: what Linux takes, within what every dialect carries', () => {
  const at = (name: string) => edit(S, [NYC, '    address6: 2001:db8:b::75\n', `    address6: 2001:db8:b::75\n    interface: ${JSON.stringify(name)}\n`], [NYC, '    address6: 2001:db8:b::76\n', `    address6: 2001:db8:b::76\n    interface: ${JSON.stringify(name)}\n`]);
  const RULE = 'must be a Linux interface name such as eth0, eno1.100 or br-lan (a letter, then letters, digits and _ . -; at most 15)';

  test.each(['eno1.100', 'br-lan', 'lan_0', 'bond0.4094', 'Wan0', 'enp3s0f1abcdefg'])('%s loads', (name) => {
    // Hosts come sorted by name: the caches, then the lb pair.
    expect(load(at(name)).sites.find((x) => x.id === 'nyc')!.hosts.map((h) => h.interface)).toEqual(['eth0', 'eth0', name, name]);
  });

  test.each([
    ['an alias (Linux refuses ":")', 'eth0:1'],
    ['a leading hyphen (read as an option by ip)', '-eth0'],
    ['16 characters (Linux takes 15)', 'enp3s0f1abcdefgh'],
    ['"."', '.'],
    ['".."', '..'],
    ['a slash', 'br/lan'],
    ['a space', 'br lan'],
    ['a percent sign (a template to the kernel)', 'eth%d'],
  ])('refuses %s', (_what, name) => {
    expect(errors(at(name))).toEqual([
      `sites/nyc.yaml:32:16: hosts[0].interface: ${RULE}, got ${JSON.stringify(name)}`,
      `sites/nyc.yaml:37:16: hosts[1].interface: ${RULE}, got ${JSON.stringify(name)}`,
    ]);
  });
});

describe('files', () => {
  test('site id and file name must match', () => {
    expect(errors(edit(S, [AMS, 'id: ams', 'id: amx']))).toEqual([
      'sites/ams.yaml:2:5: id: must match the file name, got "amx" in ams.yaml; rename the file or the id',
    ]);
  });

  test('a site file renamed without its id', () => {
    const { [SIN]: sin, ...rest } = S;
    expect(errors({ ...rest, 'sites/sgp.yaml': sin! })).toEqual([
      'sites/sgp.yaml:5:5: id: must match the file name, got "sin" in sgp.yaml; rename the file or the id',
    ]);
  });

  test('a missing cdn.yaml (loadTexts)', () => {
    const { [CDN]: _, ...rest } = S;
    expect(errors(rest)).toEqual(['sites/cdn.yaml:1:1: missing: the global settings file cdn.yaml (image host, zone, anycast addresses, origin)']);
  });

  test('a missing cdn.yaml and no sites at all', () => {
    expect(errors({})).toEqual(['cdn.yaml:1:1: missing: the global settings file cdn.yaml (image host, zone, anycast addresses, origin)']);
  });

  test('no site files', () => {
    expect(errors({ [CDN]: S[CDN]! })).toEqual(['sites/cdn.yaml:1:1: no sites: add at least one sites/<id>.yaml next to cdn.yaml']);
  });

  test('a missing cdn.yaml and an unreadable directory (loadTopology)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-model-'));
    try {
      writeFileSync(join(dir, 'ams.yaml'), S[AMS]!);
      expect(diagnosticsOf(() => loadTopology(dir))).toEqual([`${dir}/cdn.yaml:1:1: missing: the global settings file cdn.yaml (image host, zone, anycast addresses, origin)`]);
      const gone = join(dir, 'nope');
      expect(diagnosticsOf(() => loadTopology(gone))).toEqual([`${gone}:1:1: sites directory: no such directory; pass the directory that holds cdn.yaml and the site files`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('loadTopology reads the shipped directory', () => {
    const t = loadTopology(SHIPPED_DIR);
    expect(t.sources.fileOf('ams')).toMatch(/(^|\/)sites\/ams\.yaml$/);
    expect(t.sites.map((s) => s.id)).toEqual(['ams', 'nyc', 'sin']);
  });
});

describe('all errors at once', () => {
  test('schema errors in several files are reported together, sorted by file and position', () => {
    const texts = edit(
      S,
      [SIN, 'platform: aws', 'platform: gcp'],
      [CDN, 'ttlSec: 60', 'ttlSec: 0'],
      [NYC, 'asn: 64502\n      bfd: true', 'asn: -5\n      bfd: true'],
      [NYC, 'advertIntervalMs: 100', 'advertIntervalMs: 5'],
      [AMS, 'location: Amsterdam, NL', 'location: "Amsterdam; NL"'],
    );
    expect(errors(texts)).toEqual([
      'sites/ams.yaml:3:11: location: may hold only letters of any script (with their accents), digits 0-9, spaces and , . - _ / ( ) \' :, got "Amsterdam; NL"',
      'sites/cdn.yaml:9:11: dns.ttlSec: must be at least 1, got 0',
      'sites/nyc.yaml:14:21: vip.advertIntervalMs: must be at least 10, got 5',
      'sites/nyc.yaml:21:12: bgp.peers[0].asn: must be 1..4294967295, got -5',
      'sites/sin.yaml:7:11: platform: must be one of "metal", "aws", got "gcp"',
    ]);
  });

  test('rule errors in several files are reported together, sorted by file and position', () => {
    const texts = edit(
      S,
      [SIN, 'region: ap-southeast-1\n', ''],
      [CDN, 'shield: ams', 'shield: fra'],
      [NYC, 'asn: 64502\n      bfd: true', 'asn: 64496\n      bfd: true'],
      [NYC, 'address: 198.51.100.86', 'address: 198.51.100.85'],
      [AMS, 'address: 198.51.100.10', 'address: 198.51.100.100'],
    );
    expect(errors(texts)).toEqual([
      'sites/ams.yaml:12:12: vip.address: 198.51.100.100 is outside the site subnets; pick an address in one of 198.51.100.0/26',
      'sites/cdn.yaml:41:9: shield: fra is not a site; use one of ams, nyc, sin',
      'sites/nyc.yaml:21:12: bgp.peers[0].asn: 64496 is bgp.originAsn, the CDN\'s own; upstream sessions are eBGP, use the upstream\'s ASN',
      'sites/nyc.yaml:43:14: hosts[3].address: 198.51.100.85 is already used by host nyc-cache1 in site nyc; every address must be unique',
      'sites/sin.yaml:7:11: region: aws site sin needs region, such as eu-west-1',
    ]);
  });

  test('a YAML error in one file does not hide schema errors in another', () => {
    expect(errors(edit(S, [AMS, 'platform: metal', 'platform: metal\nplatform: aws'], [SIN, 'virtualRouterId: 30', 'virtualRouterId: zero']))).toEqual([
      'sites/ams.yaml:5:1: yaml: duplicate key "platform"; keep only one',
      'sites/sin.yaml:16:20: vip.virtualRouterId: must be a number, got "zero"',
    ]);
  });
});

function diagnosticsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
  throw new Error('expected an InputError');
}
