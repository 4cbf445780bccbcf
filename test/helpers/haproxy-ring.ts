// Where a real haproxy sends each URI, for the rendered shape of the caches backend: the test of
// the ring contract (test/check/haproxy-ring.test.ts) and the bench's ring row both ask it. haproxy
// runs with tiny local servers that answer their own name, in a network and PID namespace of its
// own (unshare), so nothing it binds reaches the machine and nothing it starts outlives it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Topology } from '../../lib/model/schema.ts';
import { BACKEND, haproxyConfig } from '../../lib/render/haproxy.ts';
import { emitHaproxy, kw, type HaproxyLine } from '../../lib/render/syntax/haproxy.ts';
import { run } from '../../lib/run.ts';
import { inlineSite, loadInline } from './inline.ts';

export const HAPROXY = '/usr/sbin/haproxy';

/** Site `tst` (inlineSite) with these nginx caches, addressed in the order given. */
export function ringTopology(caches: { name: string; ringId?: number }[]): Topology {
  const hosts = caches.flatMap((c, i) => [
    `  - name: ${c.name}`,
    '    roles: [cache]',
    '    cacheEngine: nginx',
    `    address: 192.0.2.${30 + i}`,
    ...(c.ringId !== undefined ? [`    ringId: ${c.ringId}`] : []),
  ]);
  return loadInline(inlineSite({ hosts: hosts.join('\n') }));
}

/**
 * The rendered `backend caches` of the site's first lb host as config lines: balance, hash type,
 * bounded loads, retries and the server lines, each cache moved to 127.0.0.1:<its port>. Health
 * checks are left out (the tiny servers are always up, and checks do not place anything on the
 * ring). `positionNumbered`: without the `id` words, as anycdn rendered it before ids existed.
 */
export function ringBackend(t: Topology, ports: Record<string, number>, opts: { positionNumbered?: boolean } = {}): string[] {
  const site = t.sites[0]!;
  const lb = site.hosts.find((h) => h.roles.includes('lb'))!;
  const section = haproxyConfig(t, site, lb).find((s) => s.head.join(' ') === `backend ${BACKEND}`);
  if (!section) throw new Error(`no backend ${BACKEND} rendered`);
  const lines: HaproxyLine[] = [];
  for (const l of section.lines) {
    if (l.kind !== 'kw') continue;
    const [w0, w1] = l.words;
    if (w0 === 'http-check' || w0 === 'default-server' || (w0 === 'option' && w1 === 'httpchk')) continue;
    if (w0 !== 'server') {
      lines.push(l);
      continue;
    }
    const rest = l.words.slice(3);
    const at = rest.indexOf('id');
    const kept = opts.positionNumbered && at >= 0 ? [...rest.slice(0, at), ...rest.slice(at + 2)] : rest;
    const port = ports[w1!];
    if (port === undefined) throw new Error(`no port for ${w1}`);
    lines.push(kw('server', w1!, `127.0.0.1:${port}`, ...kept));
  }
  return emitHaproxy([{ head: ['backend', 'x'], lines }]).slice(1);
}

/**
 * Asks a real haproxy where it sends each URI through each of `backends` (name: its lines, as
 * ringBackend gives them): one frontend per backend, every URI once, one at a time. Returns
 * { backend: { uri: cache name } }. Bounded: at most `timeoutMs`.
 */
export async function routesThroughHaproxy(backends: Record<string, string[]>, ports: Record<string, number>, uris: string[], timeoutMs = 120_000): Promise<Record<string, Record<string, string>>> {
  const dir = mkdtempSync(join(tmpdir(), 'anycdn-ring-'));
  try {
    const names = Object.keys(backends);
    const frontends = Object.fromEntries(names.map((n, i) => [n, 18000 + i]));
    const config = [
      'global',
      '\tmaxconn 200',
      'defaults',
      '\tmode http',
      '\ttimeout connect 1s',
      '\ttimeout client 10s',
      '\ttimeout server 10s',
      ...names.flatMap((n) => [`frontend f-${n}`, `\tbind 127.0.0.1:${frontends[n]}`, `\tdefault_backend b-${n}`, `backend b-${n}`, ...backends[n]!]),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'haproxy.cfg'), config);
    const spec = { servers: ports, frontends, uris, haproxy: HAPROXY, config: join(dir, 'haproxy.cfg'), timeoutMs };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const driver = join(import.meta.dirname, 'haproxy-ring-driver.mjs');
    const r = await run('unshare', ['--net', '--pid', '--fork', '--kill-child', process.execPath, driver, join(dir, 'spec.json')], { timeoutMs: timeoutMs + 10_000 });
    if (r.code !== 0) throw new Error(`haproxy ring run failed (exit ${r.code}): ${r.stderr.trim().slice(0, 2000)}`);
    return JSON.parse(r.stdout) as Record<string, Record<string, string>>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 600 image URIs, some with a query (which `balance uri path-only` leaves out of the key). */
export function ringUris(n = 600): string[] {
  return Array.from({ length: n }, (_, i) => `/photos/${Math.floor(i / 50)}/img-${i}.jpg${i % 10 === 0 ? `?v=${i % 3}` : ''}`);
}

/**
 * Of the URIs whose cache is in both configs (`survivors`), how many went to another of them: images
 * that start cold somewhere although their cache is still there. Moves to a new cache are its share.
 */
export function movedBetweenSurvivors(before: Record<string, string>, after: Record<string, string>, survivors: string[]): { moved: number; of: number } {
  const stay = new Set(survivors);
  let moved = 0;
  let of = 0;
  for (const [uri, was] of Object.entries(before)) {
    if (!stay.has(was)) continue;
    of++;
    const now = after[uri]!;
    if (now !== was && stay.has(now)) moved++;
  }
  return { moved, of };
}
