// Real-daemon tests: locally a missing binary skips with its reason; under CI=true it fails.
import { existsSync } from 'node:fs';

export const IN_CI = process.env.CI === 'true';

/**
 * Returns a skip reason when `binary` is missing (locally), throws under CI=true, and returns
 * undefined when the binary is there. Use as `it.skipIf(missing(...))` or call inside a test.
 */
export function missingBinary(binary: string, debianPackage: string): string | undefined {
  if (existsSync(binary)) return undefined;
  const reason = `${binary} not found: install the Debian package ${debianPackage}`;
  if (IN_CI) throw new Error(`CI=true requires the real daemons: ${reason}`);
  return reason;
}

/** The daemons and tools every lab test needs (test/lab): the first one missing, or undefined. */
export function missingLabDaemon(): string | undefined {
  const needed: [string, string][] = [
    ['/usr/sbin/bird', 'bird2'],
    ['/usr/sbin/knotd', 'knot'],
    ['/usr/bin/kdig', 'knot-dnsutils'],
    ['/usr/sbin/haproxy', 'haproxy'],
    ['/usr/sbin/keepalived', 'keepalived'],
    ['/usr/sbin/nginx', 'nginx'],
    // anycdn-thumbnailer (derived images): Debian's python3 with libvips through GObject introspection
    ['/usr/bin/python3', 'python3'],
    ['/usr/lib/python3/dist-packages/gi/__init__.py', 'python3-gi'],
    ['/usr/lib/girepository-1.0/Vips-8.0.typelib', 'gir1.2-vips-8.0'],
    ['/usr/sbin/squid', 'squid'],
    ['/usr/bin/curl', 'curl'],
    ['/usr/bin/openssl', 'openssl'],
    ['/usr/sbin/nft', 'nftables'],
  ];
  return needed.map(([b, p]) => missingBinary(b, p)).find(Boolean);
}

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

/** Namespace tests need root; under CI=true (which runs as root) its absence is a failure. */
export function missingRoot(): string | undefined {
  if (IS_ROOT) return undefined;
  if (IN_CI) throw new Error('CI=true requires root for network-namespace tests');
  return 'needs root for network namespaces';
}
