// mtail on nginx caches: the dialect's gate, and the program run by the real mtail (--one_shot)
// over access-log lines written in nginx's own log_format, as rendered: so a change of the log
// format that the program no longer reads fails here, not only in the lab.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMtail } from '../../lib/render/mtail.ts';
import { renderNginx } from '../../lib/render/nginx.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { anyOf, str } from '../../lib/render/syntax/promql.ts';
import { blank, comment, counter, emitMtail, inc, re, when } from '../../lib/render/syntax/mtail.ts';
import { run } from '../../lib/run.ts';
import { missingBinary } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';

const t = loadEdited();
const site = t.sites.find((s) => s.id === 'ams')!;
const cache = site.hosts.find((h) => h.name === 'ams-cache1')!;

describe('the mtail dialect', () => {
  it('emits declarations, nested pattern blocks and keyed increments', () => {
    expect(emitMtail([counter('a_total', 'x'), counter('b_total'), blank, comment('c'), when(re('k=(?P<x>[a-z]+)/'), [inc('a_total', 'x'), when(re('^y'), [inc('b_total')], 'x')])])).toEqual([
      'counter a_total by x',
      'counter b_total',
      '',
      '# c',
      '/k=(?P<x>[a-z]+)\\// {',
      '  a_total[$x]++',
      '  $x =~ /^y/ {',
      '    b_total++',
      '  }',
      '}',
    ]);
  });

  it('refuses what is not an identifier, a line break in a regex or comment, and a condition not made by re()', () => {
    expect(() => emitMtail([counter('a-total')])).toThrow('internal: mtail name "a-total" is not an identifier');
    expect(() => emitMtail([inc('a', 'x]++\nevil')])).toThrow('is not an identifier');
    expect(() => re('a\n}')).toThrow('has a control character');
    expect(() => emitMtail([comment('a\ncounter evil')])).toThrow('has a control character');
    expect(() => emitMtail([{ kind: 'when', match: { text: '/x/ {}\n/y/' } as never, body: [] }])).toThrow('an mtail condition is a regex made by re()');
  });
});

describe('PromQL quoting', () => {
  it('quotes a label value and makes an exact-match regex of values', () => {
    expect(str('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(anyOf(['/var/cache', 'a.b', 'x|y', 'a.b'])).toBe('"/var/cache|a\\\\.b|x\\\\|y"');
    expect(() => str('a\nb')).toThrow('PromQL cannot carry');
    expect(() => anyOf([])).toThrow('a PromQL regex of no values');
  });
});

/** The rendered log_format anycdn, filled in as nginx would for one request. */
function logLine(format: string, v: Record<string, string>): string {
  return format.replace(/\$([a-z_]+)/g, (_, name: string) => {
    if (!(name in v)) throw new Error(`the test gives no value for $${name}`);
    return v[name]!;
  });
}

const skip = missingBinary('/usr/bin/mtail', 'mtail');
let dir = '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('the rendered program, run by mtail over lines in the rendered log_format', () => {
  it('counts each cache status, the upstream fetches and those that failed', async () => {
    const conf = renderNginx(t, site, cache).find((f) => f.path === PATHS.nginxConf)!.content;
    const format = /^\tlog_format anycdn '([^']*)';$/m.exec(conf)?.[1];
    expect(format).toBeDefined();
    const base = { remote_addr: '198.51.100.11', time_local: '07/Dec/2025:10:00:00 +0000', request: 'GET /img/a.png HTTP/1.1', status: '200', body_bytes_sent: '5120', request_time: '0.012', http_referer: '-', http_user_agent: 'curl/7.88.1' };
    const upstream = (addr: string, status: string, time: string) => ({ upstream_addr: addr, upstream_status: status, upstream_response_time: time });
    const none = upstream('-', '-', '-');
    const lines = [
      { ...base, upstream_cache_status: 'MISS', ...upstream('52.218.1.1:443', '200', '0.010') },
      { ...base, upstream_cache_status: 'HIT', ...none },
      { ...base, upstream_cache_status: 'HIT', ...none },
      // The origin failed; the stale copy was served.
      { ...base, upstream_cache_status: 'STALE', ...upstream('52.218.1.1:443', '502', '0.001') },
      // The first origin timed out, the second answered.
      { ...base, upstream_cache_status: 'MISS', ...upstream('52.218.1.1:443, 52.218.2.2:443', '504, 200', '2.000, 0.020') },
      // Refused before any cache lookup: not counted.
      { ...base, request: 'POST /img/a.png HTTP/1.1', status: '405', upstream_cache_status: '-', ...none },
    ].map((v) => logLine(format!, v));
    dir = mkdtempSync(join(tmpdir(), 'anycdn-mtail-'));
    const program = renderMtail(t, site, cache).find((f) => f.path === PATHS.mtailProgram)!;
    writeFileSync(join(dir, 'anycdn-nginx.mtail'), program.content);
    writeFileSync(join(dir, 'access.log'), `${lines.join('\n')}\n`);
    const r = await run(
      '/usr/bin/mtail',
      ['--one_shot', '--one_shot_format', 'prometheus', '--emit_prog_label=false', '--logtostderr', '--address', '127.0.0.1', '--port', '0', '--progs', join(dir, 'anycdn-nginx.mtail'), '--logs', join(dir, 'access.log')],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('anycdn_'))).toEqual([
      'anycdn_nginx_cache_requests_total{cache_status="HIT"} 2',
      'anycdn_nginx_cache_requests_total{cache_status="MISS"} 2',
      'anycdn_nginx_cache_requests_total{cache_status="STALE"} 1',
      'anycdn_nginx_upstream_errors_total 2',
      'anycdn_nginx_upstream_requests_total 3',
    ]);
  });
});
