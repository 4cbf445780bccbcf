// The lb slice against the real checkers: every rendered haproxy.cfg and keepalived.conf (shipped
// sites and the inline variants the shipped ones do not cover) passes `haproxy -c` /
// `keepalived -t` in a host view, and one known-bad file per checker is rejected with a located
// diagnostic, which proves the check can fail. The output parsers are tested on captured output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haproxyCertPaths, haproxyChecker, keepalivedChecker, keepalivedInterfaces } from '../../lib/check/lb.ts';
import { checkFiles, checkHosts } from '../../lib/check/run.ts';
import { needsFixtures } from '../../lib/check/fixtures.ts';
import { looseNeeds } from '../../lib/check/loose.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { renderPlans } from '../../lib/render/index.ts';
import type { CheckKind, RenderedFile } from '../../lib/render/types.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { inlineSite, loadInline } from '../helpers/inline.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const BAD = join(import.meta.dirname, '..', 'fixtures', 'bad');

const CASES: { kind: CheckKind; binary: string; pkg: string; bad: string; path: string; line: number; message: string }[] = [
  {
    kind: 'haproxy',
    binary: '/usr/sbin/haproxy',
    pkg: 'haproxy',
    bad: 'haproxy.cfg',
    path: '/etc/haproxy/haproxy.cfg',
    line: 17,
    message: "haproxy: [ALERT] : config : parsing [/etc/haproxy/haproxy.cfg:17] : 'hash-type' only supports 'consistent' and 'map-based'.",
  },
  {
    kind: 'keepalived',
    binary: '/usr/sbin/keepalived',
    pkg: 'keepalived',
    bad: 'keepalived.conf',
    path: '/etc/keepalived/keepalived.conf',
    line: 13,
    message: "keepalived: (/etc/keepalived/keepalived.conf: Line 13) Unknown keyword 'nopreemt'",
  },
];

const plans = renderPlans(loadTopology(SITES_DIR));
const shipped = plans.flatMap((p) => p.files);

/**
 * Site variants the shipped sites do not exercise: mixed engines, https with redirect, aws, and
 * both ends of hashBalanceFactor's range (the shipped sites take the default, 150).
 */
const MIXED = ['  - name: tst-cache1', '    roles: [cache]', '    cacheEngine: squid', '    address: 192.0.2.21', '  - name: tst-cache2', '    roles: [cache]', '    cacheEngine: nginx', '    address: 192.0.2.22'].join('\n');
const VARIANTS: Record<string, string> = {
  'mixed engines, https + redirect, nopreempt, stats on a management address': inlineSite({
    hosts: MIXED,
    extra: 'haproxy:\n  statsAddress: 192.0.2.62\n  hashBalanceFactor: 101\n  https:\n    certPath: /etc/ssl/private/img.pem\n    redirectHttp: true\n',
  }).replace('  virtualRouterId: 7\n', '  virtualRouterId: 7\n  preempt: false\n  advertIntervalMs: 1000\n'),
  'aws with a custom interface, hashBalanceFactor 1000': inlineSite({ platform: 'aws', extra: 'haproxy:\n  hashBalanceFactor: 1000\n' }).replace(/(    address: 192\.0\.2\.1[12]\n)/g, '$1    interface: ens5\n'),
};

describe.each(CASES)('$kind checker', ({ kind, binary, pkg, bad, path, line, message }) => {
  it('accepts every shipped file of its kind', async (ctx) => {
    const skip = missingBinary(binary, pkg) ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const files = shipped.filter((f) => f.check === kind);
    expect(files.map((f) => f.host)).toEqual(['ams-lb1', 'ams-lb2', 'nyc-lb1', 'nyc-lb2', 'sin-lb1', 'sin-lb2']);
    const report = await checkHosts(plans, { only: [kind] });
    expect(report.diagnostics).toEqual([]);
    expect(report.checked.map((c) => [c.file.host, c.ok])).toEqual(files.map((f) => [f.host, true]));
  });

  it.for(Object.entries(VARIANTS))('accepts the variant: %s', async ([, siteText], ctx) => {
    const skip = missingBinary(binary, pkg) ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const report = await checkHosts(renderPlans(loadInline(siteText)), { only: [kind] });
    expect(report.diagnostics).toEqual([]);
    expect(report.checked.map((c) => [c.file.host, c.ok])).toEqual([
      ['tst-lb1', true],
      ['tst-lb2', true],
    ]);
  });

  it('rejects a known-bad file with a located diagnostic', async (ctx) => {
    const skip = missingBinary(binary, pkg) ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const file: RenderedFile = { site: 'bad', host: 'bad-lb1', path, content: readFileSync(join(BAD, bad), 'utf8'), mode: 0o644, check: kind };
    const report = await checkFiles([file]);
    expect(report.checked).toEqual([{ file, checker: kind, ok: false }]);
    expect(report.diagnostics).toEqual([{ file: `bad/bad-lb1${path}`, line, col: 1, message }]);
  });
});

describe('haproxy output parser', () => {
  const file: RenderedFile = { site: 's', host: 'h', path: '/etc/haproxy/haproxy.cfg', content: '', mode: 0o644, check: 'haproxy' };

  it('locates ALERT and WARNING lines in both of haproxy 2.6 formats, drops notices and the pid', () => {
    const out = [
      '[NOTICE]   (14082) : haproxy version is 2.6.12-1+deb12u4',
      '[NOTICE]   (14082) : path to executable is /usr/sbin/haproxy',
      "[WARNING]  (14082) : config : parsing [/etc/haproxy/haproxy.cfg:12] : 'balance' ignored because frontend 'images' has no backend capability.",
      "[ALERT]    (14082) : config : [/etc/haproxy/haproxy.cfg:16] : 'server caches/a' : unknown keyword 'chek'; did you mean 'check' maybe ?",
      '[ALERT]    (14082) : config : Error(s) found in configuration file : /etc/haproxy/haproxy.cfg',
      '[ALERT]    (14082) : config : Fatal errors found in configuration.',
    ].join('\n');
    expect(haproxyChecker.parse(out, 1, file)).toEqual([
      { file: 's/h/etc/haproxy/haproxy.cfg', line: 12, col: 1, message: "haproxy: [WARNING] : config : parsing [/etc/haproxy/haproxy.cfg:12] : 'balance' ignored because frontend 'images' has no backend capability." },
      { file: 's/h/etc/haproxy/haproxy.cfg', line: 16, col: 1, message: "haproxy: [ALERT] : config : [/etc/haproxy/haproxy.cfg:16] : 'server caches/a' : unknown keyword 'chek'; did you mean 'check' maybe ?" },
    ]);
  });

  it('never passes a failed check silently, even without a located line', () => {
    expect(haproxyChecker.parse('', 1, file)).toEqual([{ file: 's/h/etc/haproxy/haproxy.cfg', line: 1, col: 1, message: 'haproxy: exit 1: no output' }]);
    expect(haproxyChecker.parse('Configuration file is valid\n', 0, file)).toEqual([]);
  });

  it('runs haproxy without -q (which hides every message) and in zero-warning mode', () => {
    expect(haproxyChecker.command(file)).toBe("/usr/sbin/haproxy -c -dW -f '/etc/haproxy/haproxy.cfg'");
  });

  it('finds the certificates of https binds in a hand-written file, for the throwaway PEM fixture', () => {
    const cfg = 'frontend images\n\tbind 192.0.2.10:80\n\tbind 192.0.2.10:443 ssl crt /etc/haproxy/certs/a.pem alpn h2,http/1.1\n';
    expect(haproxyCertPaths(cfg)).toEqual(['/etc/haproxy/certs/a.pem']);
    const [fixture] = needsFixtures(looseNeeds([{ ...file, content: cfg }]));
    expect(fixture).toEqual({ path: '/etc/haproxy/certs/a.pem', certificate: true });
  });
});

describe('keepalived output parser', () => {
  const file: RenderedFile = { site: 's', host: 'h', path: '/etc/keepalived/keepalived.conf', content: '', mode: 0o644, check: 'keepalived' };

  it('locates both formats and reports a message that every child repeats once', () => {
    const out = [
      '(/etc/keepalived/keepalived.conf: Line 8) number \'300\' outside range [1, 255]',
      '(Line 1) Unknown keyword \'bogus\'',
      'There are 1 missing \'}\'s or extra \'{\'s',
      '(/etc/keepalived/keepalived.conf: Line 8) number \'300\' outside range [1, 255]',
    ].join('\n');
    expect(keepalivedChecker.parse(out, 5, file)).toEqual([
      { file: 's/h/etc/keepalived/keepalived.conf', line: 8, col: 1, message: "keepalived: (/etc/keepalived/keepalived.conf: Line 8) number '300' outside range [1, 255]" },
      { file: 's/h/etc/keepalived/keepalived.conf', line: 1, col: 1, message: "keepalived: (Line 1) Unknown keyword 'bogus'" },
    ]);
  });

  it('explains the 2.2.7 self-SIGTERM (exit 143) of a config test', () => {
    expect(keepalivedChecker.parse('Terminated\n', 143, file)).toEqual([
      {
        file: 's/h/etc/keepalived/keepalived.conf',
        line: 1,
        col: 1,
        message: 'keepalived: exit 143: Terminated (keepalived 2.2.7 kills its own config test when a script runs as a non-root user; see acassen/keepalived#2617)',
      },
    ]);
  });

  it('asks the host view for the VRRP interface and every dev of an address', () => {
    expect(keepalivedInterfaces('vrrp_instance v {\n\tinterface ens5\n\tvirtual_ipaddress {\n\t\t192.0.2.10/32 dev ens6\n\t}\n}\n')).toEqual(['ens5', 'ens6']);
  });
});
