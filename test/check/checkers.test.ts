// The real checkers of the DNS and cache slices, the units and the sysctl files, one table: every shipped file of each kind passes
// in a host view, and one known-bad file per checker is rejected with exactly one located
// diagnostic (which proves the check can fail). The lb checkers, with their extra variants, are
// in lb.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nginxChecker, upstreamHostnames } from '../../lib/check/cache.ts';
import { formatDiagnostic } from '../../lib/model/errors.ts';
import { checkFiles, checkHosts } from '../../lib/check/run.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { monitoringPlans, renderPlans, renderTopology } from '../../lib/render/index.ts';
import type { CheckKind, RenderedFile } from '../../lib/render/types.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { loadEdited, SITES_DIR } from '../helpers/topology.ts';

const BAD = join(import.meta.dirname, '..', 'fixtures', 'bad');

// `of`: an independent checker (lib/check/independent.ts) of that kind's files, whose own checker
// accepts the known-bad file. `zone`: the origin a zone file carries (RenderedFile.zone).
const CASES: { kind: CheckKind; of?: CheckKind; zone?: string; binary: string; pkg: string; bad: string; path: string; expectLine: number; expect: RegExp; withShipped?: string; shippedOn?: string }[] = [
  { kind: 'bird', binary: '/usr/sbin/bird', pkg: 'bird2', bad: 'bird.conf', path: '/etc/bird/bird.conf', expectLine: 6, expect: /^bird: .*syntax error/ },
  { kind: 'knot', binary: '/usr/sbin/knotc', pkg: 'knot', bad: 'knot.conf', path: '/etc/knot/knot.conf', expectLine: 4, expect: /^knotc: .*invalid item/ },
  { kind: 'zone', zone: 'cdn.example.net', binary: '/usr/bin/kzonecheck', pkg: 'knot-dnssecutils', bad: 'cdn.example.net.zone', path: '/etc/knot/zones/cdn.example.net.zone', expectLine: 4, expect: /^kzonecheck: / },
  { kind: 'named-checkzone', of: 'zone', zone: 'cdn.example.net', binary: '/usr/bin/named-checkzone', pkg: 'bind9-utils', bad: 'mx-to-cname.zone', path: '/etc/knot/zones/cdn.example.net.zone', expectLine: 1, expect: /^named-checkzone: zone cdn\.example\.net\/IN: cdn\.example\.net\/MX 'mail\.cdn\.example\.net' is a CNAME \(illegal\)$/ },
  { kind: 'shell', binary: '/bin/sh', pkg: 'dash', bad: 'anycdn-withdraw', path: '/usr/local/sbin/anycdn-withdraw', expectLine: 5, expect: /^sh -n: / },
  { kind: 'shellcheck', of: 'shell', binary: '/usr/bin/shellcheck', pkg: 'shellcheck', bad: 'anycdn-unquoted', path: '/usr/local/sbin/anycdn-unquoted', expectLine: 4, expect: /^shellcheck: .*Double quote to prevent globbing and word splitting\. \[SC2086\]$/ },
  { kind: 'node', binary: '/usr/bin/node', pkg: 'nodejs', bad: 'anycdn-healthcheck.mjs', path: '/usr/local/lib/anycdn/anycdn-healthcheck.mjs', expectLine: 3, expect: /^node --check: \/usr\/local\/lib\/anycdn\/anycdn-healthcheck\.mjs:3 SyntaxError: missing \) after argument list$/ },
  // The config is read by the shipped program, which must be in the view beside it.
  { kind: 'healthcheck', binary: '/usr/bin/node', pkg: 'nodejs', bad: 'healthcheck.json', path: '/usr/local/etc/anycdn/healthcheck.json', expectLine: 1, expect: /^anycdn-healthcheck: \/usr\/local\/etc\/anycdn\/healthcheck\.json:1:1: fall: must be a positive integer, got 0$/, withShipped: '/usr/local/lib/anycdn/anycdn-healthcheck.mjs' },
  { kind: 'python', binary: '/usr/bin/python3', pkg: 'python3', bad: 'anycdn-thumbnailer.py', path: '/usr/local/lib/anycdn/anycdn-thumbnailer.py', expectLine: 3, expect: /^python3: \/usr\/local\/lib\/anycdn\/anycdn-thumbnailer\.py:3:\d+: SyntaxError: expected ':'$/ },
  // The thumbnailer's --check-config also proves libvips loads and encodes every format named.
  { kind: 'thumbnailer', binary: '/usr/bin/python3', pkg: 'python3', bad: 'thumbnailer.json', path: '/usr/local/etc/anycdn/thumbnailer.json', expectLine: 3, expect: /^anycdn-thumbnailer: \/usr\/local\/etc\/anycdn\/thumbnailer\.json:3:\d+: originals\.address: must be a loopback address \(127\.0\.0\.1 or ::1\), got "198\.51\.100\.21"$/, withShipped: '/usr/local/lib/anycdn/anycdn-thumbnailer.py', shippedOn: 'ams-cache1' },
  { kind: 'nginx', binary: '/usr/sbin/nginx', pkg: 'nginx', bad: 'nginx.conf', path: '/etc/nginx/nginx.conf', expectLine: 16, expect: /^nginx: \[emerg\] invalid time value "tenminutes" in \/etc\/nginx\/nginx\.conf:16$/ },
  { kind: 'squid', binary: '/usr/sbin/squid', pkg: 'squid', bad: 'squid.conf', path: '/etc/squid/squid.conf', expectLine: 5, expect: /^squid: FATAL: Bungled \/etc\/squid\/squid\.conf line 5: http_access allow image_hosts$/ },
  { kind: 'systemd', binary: '/usr/bin/systemd-analyze', pkg: 'systemd', bad: 'bad.service', path: '/etc/systemd/system/anycdn-bad.service', expectLine: 7, expect: /^systemd-analyze: \/etc\/systemd\/system\/anycdn-bad\.service:7: Unknown key 'Restartt' in section \[Service\], ignoring\.$/ },
  { kind: 'prometheus', binary: '/usr/bin/promtool', pkg: 'prometheus', bad: 'prometheus.yml', path: '/etc/prometheus/prometheus.yml', expectLine: 7, expect: /^promtool: line 7: field bogus not found in type config\.ScrapeConfig$/ },
  { kind: 'prometheus-rules', binary: '/usr/bin/promtool', pkg: 'prometheus', bad: 'anycdn-rules.yml', path: '/etc/prometheus/anycdn-rules.yml', expectLine: 6, expect: /^promtool: \/etc\/prometheus\/anycdn-rules\.yml: 6:15: group "anycdn", rule 1, "BgpSessionDown": could not parse expression: .*parse error/ },
  { kind: 'mtail', binary: '/usr/bin/mtail', pkg: 'mtail', bad: 'anycdn-nginx.mtail', path: '/etc/mtail/anycdn-nginx.mtail', expectLine: 8, expect: /^mtail: anycdn-nginx\.mtail:8:3-38: Identifier `anycdn_nginx_upstream_requests_total' not declared\.$/ },
  { kind: 'nft', binary: '/usr/sbin/nft', pkg: 'nftables', bad: 'exporters.nft', path: '/usr/local/etc/anycdn/exporters.nft', expectLine: 6, expect: /^nft: \/usr\/local\/etc\/anycdn\/exporters\.nft:6:\d+-\d+: Error: syntax error/ },
  { kind: 'sysctl', binary: '/usr/bin/awk', pkg: 'mawk', bad: '60-anycdn.conf', path: '/etc/sysctl.d/60-anycdn.conf', expectLine: 3, expect: /^sysctl: \/etc\/sysctl\.d\/60-anycdn\.conf:3: unknown sysctl key net\.ipv4\.ip_nonlocal_bnd \(no \/proc\/sys\/net\/ipv4\/ip_nonlocal_bnd\)$/ },
];

const shippedTopology = loadTopology(SITES_DIR);
// The Prometheus server's files are checked like a host's (validate does the same).
const plans = [...renderPlans(shippedTopology), ...monitoringPlans(shippedTopology)];
const shipped = plans.flatMap((p) => p.files);

describe.each(CASES)('$kind checker', ({ kind, of, zone, binary, pkg, bad, path, expectLine, expect: pattern, withShipped, shippedOn = 'ams-lb1' }) => {
  it('accepts every shipped file of its kind', async (ctx) => {
    const skip = missingBinary(binary, pkg) ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const files = shipped.filter((f) => f.check === (of ?? kind));
    expect(files.length).toBeGreaterThan(0);
    const report = await checkHosts(plans, { only: [kind] });
    expect(report.diagnostics).toEqual([]);
    expect(report.checked.map((c) => [c.file.host, c.ok])).toEqual(files.map((f) => [f.host, true]));
  });

  it('rejects a known-bad file with a located diagnostic', async (ctx) => {
    const skip = missingBinary(binary, pkg) ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const file: RenderedFile = { site: 'bad', host: 'bad-host', path, content: readFileSync(join(BAD, bad), 'utf8'), mode: 0o644, check: of ?? kind, ...(zone ? { zone } : {}) };
    const beside = shipped.filter((f) => f.host === shippedOn && f.path === withShipped).map((f): RenderedFile => ({ ...f, site: 'bad', host: 'bad-host', check: undefined }));
    expect(beside.length, 'the shipped file the check needs').toBe(withShipped ? 1 : 0);
    const report = await checkFiles([file, ...beside], { only: [kind] });
    expect(report.checked).toEqual([{ file, checker: kind, ok: false }]);
    expect(report.diagnostics).toHaveLength(1);
    const first = report.diagnostics[0]!;
    expect(first.file).toBe(`bad/bad-host${path}`);
    expect(first.line).toBe(expectLine);
    expect(first.message).toMatch(pattern);
    if (of) {
      // What the independent checker is for: the file's own checker lets it through.
      const own = await checkFiles([file], { only: [of] });
      expect(own.diagnostics).toEqual([]);
      expect(own.checked).toEqual([{ file, checker: of, ok: true }]);
    }
  });
});

describe('a checker that writes outside the host\'s directories', () => {
  it('fails inside the host view with a clear message, and writes nothing to the machine', async (ctx) => {
    const skip = missingBinary('/usr/sbin/nginx', 'nginx') ?? missingRoot();
    if (skip) return ctx.skip(skip);
    // nginx -t makes a cache directory and chowns it: here in /etc, which no host lists.
    const cache = `/etc/anycdn-write-test-${process.pid}`;
    const content = `error_log stderr;\nevents {}\nhttp {\n\tproxy_cache_path ${cache} keys_zone=z:1m;\n}\n`;
    const file: RenderedFile = { site: 'bad', host: 'bad-host', path: '/etc/nginx/nginx.conf', content, mode: 0o644, check: 'nginx' };
    const report = await checkFiles([file], { only: ['nginx'] });
    expect(report.diagnostics.map(formatDiagnostic)).toEqual([
      `bad/bad-host/etc/nginx/nginx.conf:1:1: nginx: exit 1: [emerg] mkdir() "${cache}" failed (30: Read-only file system) | nginx: configuration file /etc/nginx/nginx.conf test failed (the check's host view is read-only but for the directories the render lists for the host; nothing was written to this machine)`,
    ]);
    expect(existsSync(cache)).toBe(false);
  });
});

describe('nginx check without DNS', () => {
  it('maps every upstream hostname, and only hostnames, into the view', () => {
    const conf = 'upstream origin {\n\tserver b.s3.eu-west-1.amazonaws.com:443;\n\tkeepalive 32;\n}\nupstream shield {\n\tserver 198.51.100.10:80;\n}\n';
    expect(upstreamHostnames(conf)).toEqual(['b.s3.eu-west-1.amazonaws.com']);
  });

  it('passes for an http origin given by name and by address', async (ctx) => {
    const skip = missingBinary('/usr/sbin/nginx', 'nginx') ?? missingRoot();
    if (skip) return ctx.skip(skip);
    for (const url of ['https://origin.example.net:8443', 'http://203.0.113.9']) {
      const t = loadEdited((x) => {
        x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, `origin:\n  http:\n    url: ${url}\n`);
      });
      const files = renderTopology(t).filter((f) => f.host === 'sin-cache1');
      const report = await checkFiles(files, { only: ['nginx'] });
      expect(report.diagnostics, url).toEqual([]);
      expect(report.checked.map((c) => c.ok), url).toEqual([true]);
    }
  });
});

describe('fewer checker processes, the same results', () => {
  it('systemd-analyze checks all units of a host in one run, and each unit keeps its own result', async (ctx) => {
    const skip = missingBinary('/usr/bin/systemd-analyze', 'systemd') ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const unit = (name: string, content: string): RenderedFile => ({ site: 'bad', host: 'bad-host', path: `/etc/systemd/system/${name}`, content, mode: 0o644, check: 'systemd' });
    const bad = unit('anycdn-bad.service', readFileSync(join(BAD, 'bad.service'), 'utf8'));
    const good = unit('anycdn-good.service', '[Unit]\nDescription=a good unit\n\n[Service]\nExecStart=/bin/true\n');
    const report = await checkFiles([good, bad]);
    expect(report.checked).toEqual([
      { file: bad, checker: 'systemd', ok: false },
      { file: good, checker: 'systemd', ok: true },
    ]);
    expect(report.diagnostics.map((d) => `${d.file}:${d.line}`)).toEqual(['bad/bad-host/etc/systemd/system/anycdn-bad.service:7']);
  });

  it('a content-only check (sh -n, node --check) runs once for identical files, and every copy gets its result', async (ctx) => {
    const skip = missingRoot();
    if (skip) return ctx.skip(skip);
    const script = (host: string, content: string): RenderedFile => ({ site: 's', host, path: '/usr/local/sbin/anycdn-x', content, mode: 0o755, check: 'shell' });
    const broken = 'if true; then\n';
    const files = [script('h1', broken), script('h2', broken), script('h3', 'true\n')];
    const hosts: { host: string; processes: number }[] = [];
    const report = await checkFiles(files, { only: ['shell'], onHost: (h) => hosts.push({ host: h.host, processes: h.processes }) });
    expect(hosts.sort((a, b) => a.host.localeCompare(b.host))).toEqual([
      { host: 'h1', processes: 1 },
      { host: 'h2', processes: 0 },
      { host: 'h3', processes: 1 },
    ]);
    expect(report.checked.map((c) => [c.file.host, c.ok])).toEqual([
      ['h1', false],
      ['h2', false],
      ['h3', true],
    ]);
    expect(report.diagnostics.map((d) => d.file).sort()).toEqual(['s/h1/usr/local/sbin/anycdn-x', 's/h2/usr/local/sbin/anycdn-x']);
  });
});
