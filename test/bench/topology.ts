// Generated topologies for the benchmarks: the shipped cdn.yaml and N metal sites shaped like
// the shipped ams (an lb+dns pair, two caches, one BGP peer), each with its own /24, ASN and VRID.
// At most 511 sites.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

function siteYaml(i: number): string {
  // Benchmarking space (RFC 2544, 198.18.0.0/15: 512 /24s): a VIP the zone may publish, as the
  // shipped sites' documentation addresses are, where 10/8 would need internal: true.
  const net = `198.${18 + Math.floor(i / 256)}.${i % 256}`;
  const id = `g${String(i).padStart(3, '0')}`;
  const net6 = `2001:db8:${(0x1000 + i).toString(16)}:`;
  return `id: ${id}
location: Generated site ${i}
platform: metal

subnets:
  lan: ${net}.0/24
  lan6: ${net6}:/64

vip:
  address: ${net}.10
  virtualRouterId: ${1 + (i % 250)}

bgp:
  peers:
    - name: transit1
      address: ${net}.1
      asn: ${4_100_000_000 + i}
      bfd: true
    - name: transit1-v6
      address: ${net6}:1
      asn: ${4_100_000_000 + i}
      bfd: true

hosts:
  - name: ${id}-lb1
    roles: [lb, dns]
    address: ${net}.11
    address6: ${net6}:11
  - name: ${id}-lb2
    roles: [lb, dns]
    address: ${net}.12
    address6: ${net6}:12
  - name: ${id}-cache1
    roles: [cache]
    cacheEngine: ${i % 2 === 0 ? 'nginx' : 'squid'}
    address: ${net}.21
  - name: ${id}-cache2
    roles: [cache]
    cacheEngine: ${i % 2 === 0 ? 'nginx' : 'squid'}
    address: ${net}.22
`;
}

/** Writes a sites directory with `n` generated sites into `dir`; returns `dir`. */
export function writeSites(dir: string, n: number): string {
  mkdirSync(dir, { recursive: true });
  // The shield is a shipped site; generated topologies have none, and so no derived images (without
  // a shield every site makes its own, which the Squid-only generated sites cannot).
  const cdn = readFileSync(join(ROOT, 'sites', 'cdn.yaml'), 'utf8')
    .replace(/\n# Misses at[^\n]*\nshield: \w+\n/, '\n')
    .replace(/\nimages:\n  transforms:\n(    .*\n)+/, '\n')
    // The issuer is a shipped host, and the generated sites serve no HTTPS: no certificates.
    .replace(/\n(#[^\n]*\n)*acme:\n(  [^\n]*\n)+/, '\n');
  if (/^shield:/m.test(cdn) || /^images:/m.test(cdn) || /^acme:/m.test(cdn)) throw new Error('bench: could not drop the shield, the derived images and acme from sites/cdn.yaml');
  writeFileSync(join(dir, 'cdn.yaml'), cdn);
  for (let i = 1; i <= n; i++) writeFileSync(join(dir, `g${String(i).padStart(3, '0')}.yaml`), siteYaml(i));
  return dir;
}


/**
 * Writes the shipped sites into `dir` with `n` unknown keys appended to nyc.yaml (`unknown00000:
 * 1`, ...): a model that fails with n errors, for the time of refusing it. Returns the sites dir.
 */
export function writeUnknownKeys(dir: string, n: number): string {
  const sites = join(dir, 'sites');
  mkdirSync(sites, { recursive: true });
  for (const name of ['cdn.yaml', 'ams.yaml', 'nyc.yaml', 'sin.yaml']) writeFileSync(join(sites, name), readFileSync(join(ROOT, 'sites', name), 'utf8'));
  writeFileSync(join(sites, 'nyc.yaml'), readFileSync(join(ROOT, 'sites', 'nyc.yaml'), 'utf8') + Array.from({ length: n }, (_, i) => `unknown${String(i).padStart(5, '0')}: 1\n`).join(''));
  return sites;
}
