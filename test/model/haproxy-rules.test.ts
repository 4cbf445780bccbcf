// The haproxy rule (lib/model/rules/haproxy.ts) on an inline site: the stats page never lands on a
// public address, the certificate path is normal (lib/model/paths.ts), and the shield keeps serving plain HTTP; and the
// schema's range of hashBalanceFactor, haproxy's own.
import { describe, expect, it } from 'vitest';
import { InputError, formatDiagnostic } from '../../lib/model/errors.ts';
import { INLINE_CDN, inlineSite, loadInline } from '../helpers/inline.ts';

function errors(site: string, cdn = INLINE_CDN): string[] {
  try {
    loadInline(site, cdn);
    return [];
  } catch (e) {
    if (e instanceof InputError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
}

describe('haproxy rule', () => {
  it('accepts loopback and management stats addresses and a plain certificate path', () => {
    expect(errors(inlineSite({ extra: 'haproxy:\n  statsAddress: 192.0.2.62\n  https:\n    certPath: /etc/haproxy/certs/img.pem\n' }))).toEqual([]);
  });

  it.each([
    ['0.0.0.0', 'sites/tst.yaml:31:17: haproxy.statsAddress: 0.0.0.0 listens on every address, the VIP included; use 127.0.0.1 or a management address'],
    ['192.0.2.10', 'sites/tst.yaml:31:17: haproxy.statsAddress: 192.0.2.10 is the image VIP; the stats page must never be public, use 127.0.0.1 or a management address'],
    ['203.0.113.53', 'sites/tst.yaml:31:17: haproxy.statsAddress: 203.0.113.53 is the anycast DNS address; the stats page must never be public, use 127.0.0.1 or a management address'],
  ])('refuses statsAddress %s', (address, line) => {
    expect(errors(inlineSite({ extra: `haproxy:\n  statsAddress: ${address}\n` }))).toEqual([line]);
  });

  it('refuses the Elastic IP as stats address on aws sites', () => {
    expect(errors(inlineSite({ platform: 'aws', extra: 'haproxy:\n  statsAddress: 198.51.100.7\n' }))).toEqual([
      'sites/tst.yaml:30:17: haproxy.statsAddress: 198.51.100.7 is the Elastic IP; the stats page must never be public, use 127.0.0.1 or a management address',
    ]);
  });

  it.each([
    ['/etc/haproxy/../shadow', 'sites/tst.yaml:32:15: haproxy.https.certPath: "/etc/haproxy/../shadow" is not a normal path (a .. segment); write it as "/etc/shadow"'],
    ['/etc/./x.pem', 'sites/tst.yaml:32:15: haproxy.https.certPath: "/etc/./x.pem" is not a normal path (a . segment); write it as "/etc/x.pem"'],
  ])('refuses certPath %s, with the normal path it stands for', (path, line) => {
    expect(errors(inlineSite({ extra: `haproxy:\n  https:\n    certPath: ${path}\n` }))).toEqual([line]);
  });

  it.each([
    ['a newline', '"/etc/x.pem\\nbind 0.0.0.0:9"'],
    ['a space', '"/etc/x.pem alpn h2"'],
    ['a quote', '"/etc/x\\".pem"'],
    ['a #', '"/etc/x#.pem"'],
    ['a relative path', 'x.pem'],
  ])('refuses a certPath with %s at the schema', (_what, value) => {
    const lines = errors(inlineSite({ extra: `haproxy:\n  https:\n    certPath: ${value}\n` }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sites\/tst\.yaml:32:15: haproxy\.https\.certPath: must be an absolute path/);
  });

  it('refuses an HTTP redirect on the shield site', () => {
    expect(errors(inlineSite({ extra: 'haproxy:\n  https:\n    certPath: /etc/haproxy/img.pem\n    redirectHttp: true\n' }), `${INLINE_CDN}shield: tst\n`)).toEqual([
      "sites/tst.yaml:33:19: haproxy.https.redirectHttp: tst is the origin shield, and the other sites' caches fetch from it over HTTP; set redirectHttp: false",
    ]);
  });

  it.each(['0', '101', '150', '1000'])('accepts hashBalanceFactor %s', (value) => {
    expect(errors(inlineSite({ extra: `haproxy:\n  hashBalanceFactor: ${value}\n` }))).toEqual([]);
  });

  it.each(['1', '100', '-5', '1001', '150.5'])('refuses hashBalanceFactor %s with the range and the fix', (value) => {
    expect(errors(inlineSite({ extra: `haproxy:\n  hashBalanceFactor: ${value}\n` }))).toEqual([
      `sites/tst.yaml:31:22: haproxy.hashBalanceFactor: must be 0 (off) or a whole percentage 101..1000 such as 150 (each cache at most 1.5x the mean); haproxy refuses 1..100, got ${value}`,
    ]);
  });
});
