// End-to-end security of the rendered caches: the real nginx and Squid, started from the unit's
// own commands on their rendered files (byte for byte, bound at their real paths as in a host
// view), in a throwaway mount + network + PID namespace with an HTTP origin and a "victim" server
// of our own. Nothing leaves the namespace: its addresses live on its own lo, and when the script
// ends the PID namespace takes every process with it (they are also killed by PID first).
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewLines } from '../../lib/check/hostview.ts';
import { run } from '../../lib/run.ts';
import { CACHE_HEALTH } from '../../lib/render/cache-health.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { NGINX_STATUS } from '../../lib/render/endpoints.ts';
import { shQuote as q } from '../../lib/render/syntax/shell.ts';
import { nginxStart, shellLine, squidStart } from '../../lib/render/units-cache.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';

const ORIGIN = '10.77.0.2';
const VICTIM = '10.77.0.3';
const IMAGE_HOST = 'img.cdn.example.net';
const NGINX_HOST = 'ams-cache1';
const SQUID_HOST = 'nyc-cache1';

const skip = missingBinary('/usr/sbin/nginx', 'nginx') ?? missingBinary('/usr/sbin/squid', 'squid') ?? missingBinary('/usr/bin/curl', 'curl') ?? missingRoot();

// The shipped model, with an HTTP origin we run ourselves and no shield (both caches go straight
// to the origin, which is what the shield site's caches do), and so without derived images (a
// Squid cache without a shield cannot make them; test/lab/transforms.test.ts covers them).
const topology = loadEdited((x) => {
  x['sites/cdn.yaml'] = x['sites/cdn.yaml']!
    .replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, `origin:\n  http:\n    url: http://${ORIGIN}:8080\n`)
    .replace(/\nshield: ams\n/, '\n')
    .replace(/\nimages:\n  transforms:\n(    .*\n)+/, '\n');
});
const plans = renderPlans(topology).filter((p) => [NGINX_HOST, SQUID_HOST].includes(p.host));
const files = plans.flatMap((p) => p.files).filter((f) => !f.path.startsWith('/etc/systemd/'));
const address = (name: string) => topology.sites.flatMap((s) => s.hosts).find((h) => h.name === name)!.address;
const NGINX_ADDR = address(NGINX_HOST);
const SQUID_ADDR = address(SQUID_HOST);

/** What a shield's cache (Squid or nginx) adds; none of it may reach a client. */
const SHIELD_HEADERS = {
  server: 'shield-internal/1.0',
  via: '1.1 ams-shield-cache9 (squid)',
  'x-cache': 'MISS from ams-shield-cache9',
  'x-cache-lookup': 'MISS from ams-shield-cache9:80',
  'x-cache-status': 'MISS',
  'x-served-by': 'ams-shield-cache9',
};

/** Origin and victim: each logs every request (method, Host, URL) as a JSON line. */
const SERVERS = String.raw`
const http = require('node:http');
const SHIELD_HEADERS = ${JSON.stringify(SHIELD_HEADERS)};
const fs = require('node:fs');
const [role, addr, port, log] = process.argv.slice(2);
http.createServer((req, res) => {
  fs.appendFileSync(log, JSON.stringify({ method: req.method, host: req.headers.host, url: req.url }) + '\n');
  if (role === 'victim') { res.writeHead(200, { 'content-type': 'text/plain' }); return res.end('SECRET'); }
  // The image comes back as a shield sends it: with its own cache headers, which name internal hosts.
  if (req.url === '/img/cat.jpg') { res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'max-age=3600', 'set-cookie': 'track=1', ...SHIELD_HEADERS }); return res.end('JPEGDATA'); }
  // An origin (or shield) blip: while the .fail file exists the flaky images fail, as a shield's
  // 502 does (no caching headers) or as a careless origin's 503 that says max-age.
  if (req.url.startsWith('/img/flaky') && fs.existsSync(log + '.fail')) {
    if (req.url === '/img/flaky-cc.jpg') { res.writeHead(503, { 'content-type': 'text/plain', 'cache-control': 'max-age=300' }); return res.end('DOWN'); }
    res.writeHead(502, { 'content-type': 'text/plain' }); return res.end('DOWN');
  }
  if (req.url.startsWith('/img/flaky')) { res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'max-age=3600' }); return res.end('FLAKYDATA'); }
  res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found');
}).listen(Number(port), addr, () => fs.writeFileSync(log + '.ready', ''));
`;

/** Images the origin fails for a while: [probe name, path]. */
const FLAKY = [
  ['flaky', '/img/flaky.jpg'],
  ['flaky-cc', '/img/flaky-cc.jpg'],
] as const;
const FLAKY_PROBES = [...FLAKY, ['down', '']].flatMap(([name]) => [`${name}-failing-1`, `${name}-failing-2`, `${name}-recovered`]);

interface Probe {
  name: string;
  curl: string;
}

/** Every probe is one bounded curl: status (and CONNECT status), headers and body into files. */
function probes(cache: 'nginx' | 'squid', addr: string): Probe[] {
  const url = (path: string) => `http://${addr}${path}`;
  const host = `-H ${q(`Host: ${IMAGE_HOST}`)}`;
  const p: Probe[] = [
    { name: 'image-1', curl: `${host} ${url('/img/cat.jpg')}` },
    { name: 'image-2', curl: `${host} ${url('/img/cat.jpg')}` },
    { name: 'image-query', curl: `${host} ${q(url('/img/cat.jpg?utm=x'))}` },
    // 404 is in validSec: cached, so the second one is a HIT.
    { name: 'missing-1', curl: `${host} ${url('/img/none.jpg')}` },
    { name: 'missing-2', curl: `${host} ${url('/img/none.jpg')}` },
    { name: 'post', curl: `-X POST --data x=1 ${host} ${url('/img/cat.jpg')}` },
    { name: 'put', curl: `-X PUT --data x=1 ${host} ${url('/img/cat.jpg')}` },
    // A forward-proxy request: absolute URI for another host, through the cache as a proxy.
    { name: 'absolute-uri', curl: `--proxy ${q(`http://${addr}:80`)} ${q(`http://${VICTIM}/secret`)}` },
    // CONNECT: a tunnel to the victim through the cache.
    { name: 'connect', curl: `--proxytunnel --proxy ${q(`http://${addr}:80`)} ${q(`http://${VICTIM}/secret`)}` },
  ];
  if (cache === 'nginx') {
    p.push(
      { name: 'status-vip', curl: `${host} ${url(NGINX_STATUS.path)}` },
      { name: 'status-vip-localhost-host', curl: `-H 'Host: localhost' ${url(NGINX_STATUS.path)}` },
      { name: 'status-loopback', curl: `http://${NGINX_STATUS.address}:${NGINX_STATUS.port}${NGINX_STATUS.path}` },
      { name: 'other-host', curl: `-H 'Host: www.example.com' ${url('/img/cat.jpg')}` },
    );
  } else {
    p.push({ name: 'status-vip', curl: `${host} ${url('/squid-internal-mgr/info')}` });
  }
  return p;
}

interface Result {
  code: string;
  connectCode: string;
  headers: string;
  body: string;
}

const results = new Map<string, Result>();
let originLog: { method: string; host: string; url: string }[] = [];
let victimLog: string = '';
let work = '';
let scriptOutput = '';

function curlLine(dir: string, name: string, args: string): string {
  const base = q(`${dir}/${name}`);
  return `curl -sS --max-time 5 --noproxy '' -o ${base}.body -D ${base}.hdr -w '%{http_code} %{http_connect}' ${args} > ${base}.code 2>${base}.err`;
}

beforeAll(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'anycdn-e2e-cache-'));
  const tree = join(work, 'tree');
  const out = join(work, 'out');
  await mkdir(out);
  await mkdir(join(work, 'stage'));
  for (const f of files) {
    await mkdir(dirname(join(tree, f.path)), { recursive: true });
    await writeFile(join(tree, f.path), f.content, { mode: f.mode });
  }
  await writeFile(join(work, 'servers.cjs'), SERVERS);
  const node = q(process.execPath);
  const health = { nginx: CACHE_HEALTH.nginx, squid: CACHE_HEALTH.squid };
  const lines = [
    'set -u',
    // The caches' view: the machine read-only, this test's own directory (the servers, `out`) writable.
    ...viewLines({ stage: join(work, 'stage'), treeDir: tree, paths: files.map((f) => f.path), dirs: plans.flatMap((p) => p.needs.dirs), writable: [work] }),
    'PIDS=""',
    'cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; sleep 0.3; for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; }',
    'trap cleanup EXIT',
    'ip link set lo up',
    ...[NGINX_ADDR, SQUID_ADDR, ORIGIN, VICTIM].map((a) => `ip addr add ${a}/32 dev lo`),
    // wait_for FILE-or-URL: every loop bounded by count (1200 x 0.1 s plus the probes), far above
    // the ~1 s a start takes here, so a busy machine is slow, not a failure.
    'wait_url() { i=0; while [ $i -lt 1200 ]; do curl -s -o /dev/null --max-time 1 "$1" && return 0; i=$((i+1)); sleep 0.1; done; echo "timeout waiting for $1" >&2; return 1; }',
    'wait_status() { i=0; while [ $i -lt 1200 ]; do [ "$(curl -s -o /dev/null --max-time 1 -w %{http_code} -H "Host: $3" "$1")" = "$2" ] && return 0; i=$((i+1)); sleep 0.1; done; echo "timeout waiting for $2 from $1" >&2; return 1; }',
    'wait_file() { i=0; while [ $i -lt 1200 ]; do [ -e "$1" ] && return 0; i=$((i+1)); sleep 0.1; done; echo "timeout waiting for $1" >&2; return 1; }',
    // The caches first, from the unit's own commands: the health checks must pass with no origin.
    `${shellLine(nginxStart())} & PIDS="$PIDS $!"`,
    `/usr/sbin/squid -z -N -f /etc/squid/squid.conf >${q(`${out}/squid-z.log`)} 2>&1`,
    `${shellLine(squidStart())} & PIDS="$PIDS $!"`,
    `wait_url http://${NGINX_ADDR}${health.nginx.path} && wait_url http://${SQUID_ADDR}${health.squid.path} || exit 3`,
    curlLine(out, 'nginx-health-no-origin', `http://${NGINX_ADDR}${health.nginx.path}`),
    curlLine(out, 'squid-health-no-origin', `http://${SQUID_ADDR}${health.squid.path}`),
    // Now the origin and the victim.
    `${node} ${q(`${work}/servers.cjs`)} origin ${ORIGIN} 8080 ${q(`${out}/origin.log`)} & ORIGIN_PID=$!; PIDS="$PIDS $ORIGIN_PID"`,
    `${node} ${q(`${work}/servers.cjs`)} victim ${VICTIM} 80 ${q(`${out}/victim.log`)} & PIDS="$PIDS $!"`,
    `wait_file ${q(`${out}/origin.log.ready`)} && wait_file ${q(`${out}/victim.log.ready`)} || exit 4`,
    // Squid probed its parent at start, found nothing listening and marked it down; it re-probes
    // within a second. Wait for that on a path of its own, so the probes below see a live origin.
    `wait_status http://${SQUID_ADDR}/warmup 404 ${IMAGE_HOST} || exit 5`,
    ...(['nginx', 'squid'] as const).flatMap((c) => probes(c, c === 'nginx' ? NGINX_ADDR : SQUID_ADDR).map((p) => curlLine(out, `${c}-${p.name}`, p.curl))),
    // The origin fails, then recovers: each flaky image is asked for twice while it fails and
    // once after. validSec lists no 5xx, so no failure may be kept.
    `touch ${q(`${out}/origin.log.fail`)}`,
    ...(['nginx', 'squid'] as const).flatMap((c) => FLAKY.flatMap(([name, path]) => [1, 2].map((i) => curlLine(out, `${c}-${name}-failing-${i}`, `-H ${q(`Host: ${IMAGE_HOST}`)} http://${c === 'nginx' ? NGINX_ADDR : SQUID_ADDR}${path}`)))),
    `rm ${q(`${out}/origin.log.fail`)}`,
    ...(['nginx', 'squid'] as const).flatMap((c) => FLAKY.map(([name, path]) => curlLine(out, `${c}-${name}-recovered`, `-H ${q(`Host: ${IMAGE_HOST}`)} http://${c === 'nginx' ? NGINX_ADDR : SQUID_ADDR}${path}`))),
    // The origin goes away (nothing listens: each cache makes its own error), then comes back.
    `kill "$ORIGIN_PID"; wait "$ORIGIN_PID" 2>/dev/null; rm -f ${q(`${out}/origin.log.ready`)}`,
    ...(['nginx', 'squid'] as const).flatMap((c) => [1, 2].map((i) => curlLine(out, `${c}-down-failing-${i}`, `-H ${q(`Host: ${IMAGE_HOST}`)} http://${c === 'nginx' ? NGINX_ADDR : SQUID_ADDR}/img/flaky-down.jpg`))),
    `${node} ${q(`${work}/servers.cjs`)} origin ${ORIGIN} 8080 ${q(`${out}/origin.log`)} & PIDS="$PIDS $!"`,
    `wait_file ${q(`${out}/origin.log.ready`)} || exit 6`,
    ...(['nginx', 'squid'] as const).map((c) => curlLine(out, `${c}-down-recovered`, `-H ${q(`Host: ${IMAGE_HOST}`)} http://${c === 'nginx' ? NGINX_ADDR : SQUID_ADDR}/img/flaky-down.jpg`)),
    `cp /var/log/nginx/error.log /var/log/squid/cache.log /var/log/squid/access.log ${q(out)} 2>/dev/null`,
    'exit 0',
  ];
  await writeFile(join(work, 'run.sh'), `${lines.join('\n')}\n`);
  // --kill-child: when unshare is killed (run's timeout, below the hook's), the namespace's PID 1
  // gets SIGKILL and takes every process of the namespace with it, so nothing outlives a failure.
  const r = await run('/usr/bin/unshare', ['--mount', '--net', '--pid', '--fork', '--kill-child', '--propagation', 'private', '/bin/sh', join(work, 'run.sh')], { timeoutMs: 100_000 });
  scriptOutput = `exit ${r.code}: ${r.stderr}${r.stdout}`;
  const read = (p: string) => readFile(join(out, p), 'utf8').catch(() => '');
  for (const c of ['nginx', 'squid'] as const) {
    for (const p of [...probes(c, ''), { name: 'health-no-origin', curl: '' }, ...FLAKY_PROBES.map((name) => ({ name, curl: '' }))]) {
      const [code = '', connectCode = ''] = (await read(`${c}-${p.name}.code`)).split(' ');
      results.set(`${c}-${p.name}`, { code, connectCode, headers: await read(`${c}-${p.name}.hdr`), body: await read(`${c}-${p.name}.body`) });
    }
  }
  originLog = (await read('origin.log')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; host: string; url: string });
  victimLog = await read('victim.log');
}, 120_000);

afterAll(async () => {
  if (work && !process.env.ANYCDN_KEEP) await rm(work, { recursive: true, force: true });
});

function r(name: string): Result {
  const got = results.get(name);
  if (!got || got.code === '') throw new Error(`no result for ${name}; script said ${scriptOutput}`);
  return got;
}
/** Every response header name, lowercased and sorted (the status line left out). */
const headerNames = (res: Result) =>
  res.headers
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.includes(':'))
    .map((l) => l.slice(0, l.indexOf(':')).toLowerCase())
    .sort();
/**
 * The response headers both engines expose for an image (docs/image-path.md): the origin's
 * content headers, HTTP framing, and the two the cache adds.
 */
const EXPOSED = ['cache-control', 'connection', 'content-type', 'date', 'transfer-encoding', 'x-cache-status', 'x-served-by'];
const header = (res: Result, name: string) => new RegExp(`^${name}: (.*?)\\r?$`, 'mi').exec(res.headers)?.[1];

describe.skipIf(skip)('rendered caches under attack (real nginx and Squid)', () => {
  describe.each(['nginx', 'squid'] as const)('%s', (c) => {
    it('answers the haproxy health check by itself, before the origin even exists', () => {
      expect(r(`${c}-health-no-origin`).code).toBe(String(CACHE_HEALTH[c].expectStatus));
    });

    it('serves an image, and the second fetch is a HIT', () => {
      expect([r(`${c}-image-1`).code, r(`${c}-image-1`).body]).toEqual(['200', 'JPEGDATA']);
      expect([r(`${c}-image-2`).code, r(`${c}-image-2`).body]).toEqual(['200', 'JPEGDATA']);
      expect([header(r(`${c}-image-1`), 'X-Cache-Status'), header(r(`${c}-image-2`), 'X-Cache-Status')]).toEqual(['MISS', 'HIT']);
      expect(header(r(`${c}-image-1`), 'Set-Cookie')).toBeUndefined();
    });

    it('exposes exactly the documented response headers: no shield host names, no cookie', () => {
      const self = c === 'nginx' ? NGINX_HOST : SQUID_HOST;
      for (const [probe, status] of [['image-1', 'MISS'], ['image-2', 'HIT']] as const) {
        const res = r(`${c}-${probe}`);
        // The one difference docs/image-path.md names: nginx says `Server: nginx`, Squid adds Age to a hit.
        const own = [...(c === 'nginx' ? ['server'] : []), ...(c === 'squid' && status === 'HIT' ? ['age'] : [])];
        expect(headerNames(res), probe).toEqual([...EXPOSED, ...own].sort());
        expect([header(res, 'X-Cache-Status'), header(res, 'X-Served-By')], probe).toEqual([status, self]);
        if (c === 'nginx') expect(header(res, 'Server')).toBe('nginx');
        expect(res.headers, probe).not.toMatch(/shield/i);
      }
    });

    it('drops the query string: the same object, a HIT', () => {
      expect(r(`${c}-image-query`).code).toBe('200');
      expect(header(r(`${c}-image-query`), 'X-Cache-Status')).toBe('HIT');
    });

    it('refuses POST and PUT with 405 or 403', () => {
      expect(['403', '405']).toContain(r(`${c}-post`).code);
      expect(['403', '405']).toContain(r(`${c}-put`).code);
    });

    it('is not a forward proxy: an absolute URI for another host never reaches it', () => {
      const res = r(`${c}-absolute-uri`);
      expect(res.code).not.toBe('200');
      expect(res.body).not.toContain('SECRET');
    });

    it('refuses CONNECT', () => {
      const res = r(`${c}-connect`);
      expect(res.connectCode).not.toBe('200');
      expect(res.body).not.toContain('SECRET');
    });

    it('does not show its status page on the host address', () => {
      const res = r(`${c}-status-vip`);
      expect(res.code).not.toBe('200');
      expect(res.body).not.toMatch(/Active connections|Squid Object Cache/);
    });
  });

  describe.each(['nginx', 'squid'] as const)('%s: the origin fails, then recovers', (c) => {
    it.each(FLAKY)('%s: every failure reaches the client as it is, none is kept, and the first request after recovery gets the image', (name) => {
      const failing = [1, 2].map((i) => r(`${c}-${name}-failing-${i}`).code);
      expect(failing).toEqual(name === 'flaky-cc' ? ['503', '503'] : ['502', '502']);
      expect([1, 2].map((i) => header(r(`${c}-${name}-failing-${i}`), 'X-Cache-Status'))).toEqual(['MISS', 'MISS']);
      const recovered = r(`${c}-${name}-recovered`);
      expect([recovered.code, recovered.body, header(recovered, 'X-Cache-Status')]).toEqual(['200', 'FLAKYDATA', 'MISS']);
    });
  });

  describe.each(['nginx', 'squid'] as const)('%s: the origin is gone, then back', (c) => {
    it('its own error is not kept: the first request after the origin returns gets the image', () => {
      // nginx answers a refused connection with 502, Squid with 503 (ERR_CONNECT_FAIL).
      const status = c === 'nginx' ? '502' : '503';
      expect([1, 2].map((i) => r(`${c}-down-failing-${i}`).code)).toEqual([status, status]);
      const recovered = r(`${c}-down-recovered`);
      expect([recovered.code, recovered.body, header(recovered, 'X-Cache-Status')]).toEqual(['200', 'FLAKYDATA', 'MISS']);
    });
  });

  it.each(FLAKY)('%s: the origin saw every request of both engines, the failures and the recovered fetch', (_name, path) => {
    expect(originLog.filter((x) => x.url === path)).toHaveLength(6);
  });

  it('a 404 (listed in validSec) is kept: the second request is a HIT at both engines', () => {
    for (const c of ['nginx', 'squid'] as const) {
      expect([r(`${c}-missing-1`).code, r(`${c}-missing-2`).code], c).toEqual(['404', '404']);
      expect([header(r(`${c}-missing-1`), 'X-Cache-Status'), header(r(`${c}-missing-2`), 'X-Cache-Status')], c).toEqual(['MISS', 'HIT']);
    }
    expect(originLog.filter((x) => x.url === '/img/none.jpg')).toHaveLength(2);
  });

  it('nginx: stub_status answers on loopback only; other Hosts get 421', () => {
    expect(r('nginx-status-loopback').code).toBe('200');
    expect(r('nginx-status-loopback').body).toMatch(/^Active connections: \d+/);
    expect(r('nginx-status-vip-localhost-host').code).toBe('421');
    expect(r('nginx-other-host').code).toBe('421');
  });

  it('the victim server never saw a request, and the origin saw only GETs without queries', () => {
    expect(victimLog).toBe('');
    expect(originLog.length).toBeGreaterThan(0);
    for (const req of originLog) {
      expect(req.method).toBe('GET');
      expect(req.url).not.toContain('?');
      expect(req.host).toBe(`${ORIGIN}:8080`);
    }
    // Two caches, one miss each for the image; the status probe on nginx reaches the origin as a plain 404 path.
    expect(originLog.filter((x) => x.url === '/img/cat.jpg')).toHaveLength(2);
  });
});
