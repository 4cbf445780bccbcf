// The lab with an HTTP origin on a non-default port (issue 18): the shipped sites, edited so the
// origin is http://origin.<zone>:8080, run for real in network namespaces.
//
// - The lab origin listens exactly where the model says (originTarget: port 8080, plain HTTP) and
//   nowhere else, and an image fetched through a site VIP is a MISS, then a HIT, with the origin's
//   bytes, at an nginx site (ams, the shield) and at a Squid site (nyc, through the shield).
// - The origin fails, then recovers: while it is down an uncached image fails with a 5xx at both
//   sites; once it is back the next request for that image succeeds at both. Before the fix the
//   nyc Squid kept the shield's 502 (negative_ttl) and answered it as a HIT after the recovery.
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed (by PID and
// namespace, lib/lab/down.ts) before and after, even when a test fails.
import { labUpEdited } from './bring-up.ts';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originTarget } from '../../lib/model/facts.ts';
import { startOriginAgain, stopOrigin } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { waitFor } from '../../lib/lab/exec.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { LAB_IMAGE_COUNT } from '../../lib/lab/origin.ts';
import { nsOf, ORIGIN } from '../../lib/lab/plan.ts';
import { http } from '../../lib/lab/probe.ts';
import { LAB_DIR } from '../../lib/lab/state.ts';
import { run } from '../../lib/run.ts';
import { missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';

const skip = missingRoot() ?? missingLabDaemon();

const ORIGIN_URL = 'http://origin.cdn.example.net:8080';
/** The shipped model with an HTTP origin on port 8080 (the shield stays at ams). */
const edit = (x: Record<string, string>) => {
  const edited = x['sites/cdn.yaml']!.replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, `origin:\n  http:\n    url: ${ORIGIN_URL}\n`);
  if (edited === x['sites/cdn.yaml']) throw new Error('the edit of sites/cdn.yaml did not apply: the shipped origin changed shape');
  x['sites/cdn.yaml'] = edited;
};
const t = loadEdited(edit);
const IMG = t.cdn.imageHost;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
const images = imageSet(LAB_IMAGE_COUNT);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** [site, engine of its caches]: ams is the shield (nginx), nyc goes through it (Squid). */
const SITES = [
  ['ams', 'nginx'],
  ['nyc', 'squid'],
] as const;

let fetches = 0;
async function fetchImage(site: string, path: string): Promise<{ status: number; cache: string; sha: string }> {
  const body = join(LAB_DIR, `fetch-origin-port-${process.pid}-${fetches++}`);
  const r = await run('ip', ['netns', 'exec', nsOf.client(site), 'curl', '-s', '-D', '-', '-o', body, '--max-time', '5', '-H', `Host: ${IMG}`, `http://${siteVip(site)}${path}`], { timeoutMs: 8000 });
  const bodySha = existsSync(body) ? sha(readFileSync(body)) : '';
  rmSync(body, { force: true });
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(r.stdout)?.[1] ?? 0);
  const cache = /^x-cache-status: (\w+)/im.exec(r.stdout)?.[1] ?? '';
  return { status, cache: cache.toUpperCase(), sha: bodySha };
}
const siteVip = (id: string) => site(id).vip.address;

/** The lab origin, asked directly from a client namespace, at a port. */
const originAt = (port: number, path: string) => http(nsOf.client('ams'), `http://${ORIGIN.v4}:${port}${path}`, { timeoutSec: 1 });

let sitesDir = '';

describe.skipIf(skip)('lab: an HTTP origin on port 8080', () => {
  beforeAll(async () => {
    sitesDir = await labUpEdited(t, 'origin-port', edit);
  }, 120_000);

  afterAll(async () => {
    try {
      await labDown();
    } finally {
      if (sitesDir) rmSync(sitesDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the model says port 8080 over plain HTTP, and the lab origin serves exactly there', async () => {
    expect(originTarget(t)).toEqual({ host: 'origin.cdn.example.net', port: 8080, tls: false, hostHeader: 'origin.cdn.example.net:8080' });
    const img = images[3]!;
    const at8080 = await originAt(8080, `/${img.name}`);
    expect([at8080.status, at8080.bytes]).toEqual([200, img.data.length]);
    // Nowhere else: the default ports are closed.
    expect((await originAt(80, `/${img.name}`)).status).toBe(0);
    expect((await originAt(443, `/${img.name}`)).status).toBe(0);
  });

  it.each(SITES)('%s (%s): an image through the site VIP is a MISS, then a HIT, with the origin\'s bytes', async (id) => {
    const img = images[id === 'ams' ? 40 : 41]!;
    const first = await fetchImage(id, `/${img.name}`);
    const second = await fetchImage(id, `/${img.name}`);
    expect([first.status, first.cache, second.status, second.cache]).toEqual([200, 'MISS', 200, 'HIT']);
    expect([first.sha, second.sha]).toEqual([sha(img.data), sha(img.data)]);
  }, 60_000);

  it('the origin fails, then recovers: the next request succeeds at both engines, no 5xx was kept', async () => {
    const img = images[60]!; // fetched by nobody yet
    const path = `/${img.name}`;
    await stopOrigin();
    let restarted = false;
    try {
      expect((await originAt(8080, path)).status, 'the origin still answers after it was stopped').toBe(0);
      for (const [id] of SITES) {
        // Twice: the second is where a kept failure would show.
        for (const i of [1, 2]) {
          const failing = await fetchImage(id, path);
          expect(failing.status, `${id}, request ${i} while the origin is down`).toBeGreaterThanOrEqual(500);
          expect(failing.status, `${id}, request ${i} while the origin is down`).toBeLessThan(600);
        }
      }
      await startOriginAgain();
      restarted = true;
      const back = await waitFor(async () => ((await originAt(8080, path)).status === 200 ? true : undefined), 10_000, 100);
      expect(back, 'the origin did not answer on 8080 within 10 s of its restart').toBe(true);
      // nyc first: it asks the shield (ams), whose own cache must not hold the failure either.
      for (const [id] of [...SITES].reverse()) {
        const recovered = await fetchImage(id, path);
        expect([recovered.status, recovered.sha], `${id} after the origin recovered`).toEqual([200, sha(img.data)]);
      }
    } finally {
      if (!restarted) await startOriginAgain();
    }
  }, 60_000);
});
