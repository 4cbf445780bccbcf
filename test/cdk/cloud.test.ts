// lib/cloud on its own: the deterministic tar, the network arithmetic and the user data size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostBundle } from '../../lib/cloud/bundle.ts';
import { supernet } from '../../lib/cloud/network.ts';
import { parsePrefix, type Prefix } from '../../lib/model/net.ts';
import { isAwsReserved } from '../../lib/model/rules/aws-network.ts';
import { tar, tarGz } from '../../lib/cloud/tar.ts';
import { USER_DATA_LIMIT_BYTES, userData } from '../../lib/cloud/userdata.ts';
import type { RenderedFile } from '../../lib/render/types.ts';

const file = (path: string, content: string, mode = 0o644): RenderedFile => ({ site: 's', host: 'h', path, content, mode });

describe('tar', () => {
  const files = [
    file('/usr/local/sbin/run', '#!/bin/sh\necho hi\n', 0o755),
    file('/etc/a.conf', 'a\n'),
    file(`/etc/${'d'.repeat(120)}/${'f'.repeat(90)}.conf`, 'long\n', 0o640),
  ];

  it('unpacks with GNU tar to exactly the files, modes and root ownership', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-tar-'));
    writeFileSync(join(dir, 'b.tar.gz'), hostBundle('s', 'h', files).archive);
    const listing = execFileSync('tar', ['-tzvf', join(dir, 'b.tar.gz'), '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).filter((_, i) => i !== 2 && i !== 3 && i !== 4).join(' '))).toEqual([
      '-rw-r--r-- 0/0 etc/a.conf',
      `-rw-r----- 0/0 etc/${'d'.repeat(120)}/${'f'.repeat(90)}.conf`,
      '-rwxr-xr-x 0/0 usr/local/sbin/run',
    ]);
    const out = join(dir, 'root');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xzmf', join(dir, 'b.tar.gz'), '-C', out, '--no-same-owner']);
    expect(readFileSync(join(out, 'usr/local/sbin/run'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(statSync(join(out, 'usr/local/sbin/run')).mode & 0o777).toBe(0o755);
  });

  it('is byte-identical for the same files in any order', () => {
    const a = hostBundle('s', 'h', files);
    const b = hostBundle('s', 'h', [...files].reverse());
    expect(b.archive.equals(a.archive)).toBe(true);
    expect(b.sha256).toBe(a.sha256);
    expect(hostBundle('s', 'h', [...files, file('/etc/b', 'x\n')]).sha256).not.toBe(a.sha256);
  });

  it('pads to whole 10 KiB records and refuses what ustar cannot hold', () => {
    expect(tar([{ path: 'a', content: Buffer.from('x'), mode: 0o644 }]).length % 10240).toBe(0);
    expect(() => tarGz([{ path: '/abs', content: Buffer.alloc(0), mode: 0o644 }])).toThrow(/must be relative/);
    expect(() => tarGz([{ path: `${'x'.repeat(300)}`, content: Buffer.alloc(0), mode: 0o644 }])).toThrow(/too long for ustar/);
    expect(() => tarGz([{ path: 'a', content: Buffer.alloc(0), mode: 0o644 }, { path: 'a', content: Buffer.alloc(0), mode: 0o644 }])).toThrow(/twice/);
  });
});

describe('network', () => {
  it('covers the subnets with the smallest prefix', () => {
    expect(supernet(['10.30.0.0/24'])).toBe('10.30.0.0/24');
    expect(supernet(['10.30.0.0/24', '10.30.1.0/24'])).toBe('10.30.0.0/23');
    expect(supernet(['10.30.1.0/24', '10.30.2.0/24'])).toBe('10.30.0.0/22');
  });

  it('knows the five addresses AWS keeps in every subnet', () => {
    const reserved = ['10.30.0.0', '10.30.0.1', '10.30.0.2', '10.30.0.3', '10.30.0.255'];
    const subnet = parsePrefix('10.30.0.0/24') as Prefix;
    for (const a of reserved) expect(isAwsReserved(subnet, a)).toBe(true);
    for (const a of ['10.30.0.4', '10.30.0.10', '10.30.0.254']) expect(isAwsReserved(subnet, a)).toBe(false);
  });
});

describe('user data', () => {
  it('stays under 16 KB with the longest values the model and S3 allow', () => {
    const text = userData({
      host: 'h'.repeat(32),
      region: 'ap-southeast-1',
      bundleUrl: `s3://${'b'.repeat(63)}/${'k'.repeat(1024)}`,
      bundleSha256: 'f'.repeat(64),
      packages: ['bird2', 'curl', 'haproxy', 'iproute2', 'keepalived', 'knot', 'knot-dnsutils', 'nginx', 'squid'],
      units: Array.from({ length: 40 }, (_, i) => `unit-number-${i}.service`),
      address: { address: '255.255.255.255', subnet: '255.255.255.255/32', router: '255.255.255.255', vpcCidr: '255.255.255.255/32', interface: 'i'.repeat(15) },
      egress: { subnet: '255.255.255.255/32', router: '255.255.255.255' },
      forwardFromPrimary: { tcp: [65535, 65534], udp: [65535] },
    });
    // The address claim and the primary-address forward take it past 4 KB; half the limit leaves room.
    expect(Buffer.byteLength(text)).toBeLessThan(USER_DATA_LIMIT_BYTES / 2);
  });

  it('refuses a package or unit name a shell would split or expand', () => {
    const base = { host: 'h', region: 'eu-west-1', bundleUrl: 's3://b/k', bundleSha256: 'f'.repeat(64), units: [], address: { address: '10.0.0.1', subnet: '10.0.0.0/24', router: '10.0.0.1', vpcCidr: '10.0.0.0/24', interface: 'ens5' }, egress: { subnet: '100.64.0.32/27', router: '100.64.0.33' } };
    expect(() => userData({ ...base, packages: ['nginx; rm -rf /'] })).toThrow(/not a package or unit name/);
  });
});
