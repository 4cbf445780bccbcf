// Derived images (images.transforms, issue 17) in the lab: the shipped sites, whose cdn.yaml
// allows widths 64, 128, 256 and 512 under /_w/, run for real in network namespaces.
//
// - At ams (the shield, nginx caches) the first request for an allowed width is a MISS that
//   transforms, the second a HIT with the same bytes, and the bytes are a PNG of the asked width
//   (the IHDR parsed here) with the original's aspect ratio.
// - At nyc (Squid caches, which cannot resize) the same: its Squid fetches the derived image from
//   the shield, where it was made, and keeps it; ams then answers that image as a HIT, so it was
//   made once for both sites.
// - A width not listed, a non-canonical spelling and a transform of a transform are refused with
//   400 by haproxy: no cache sees them (their access logs are read through each host's view).
// - An original narrower than the width is served as it is: libvips never enlarges.
// - Formats (images.transforms.formats: avif, webp), with the Accept strings real browsers send for
//   images (curl stands in for the browser; its bytes are checked, not only the Content-Type):
//   Chrome, Firefox and Safari get AVIF, a client that names only image/webp gets WebP, curl's
//   */* the original's format; Vary: Accept on each. At ams (nginx) the cache holds exactly one
//   copy per format of the URL, whatever Accept strings came (read from the cache files' keys); at
//   nyc (Squid, which then keeps no derived image, through the shield) a cached AVIF is never
//   served to a client that did not ask.
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed before and
// after, even when a test fails.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainPid } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { imageSet, imageSize, photoSet } from '../../lib/lab/images.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { LAB_DIR } from '../../lib/lab/state.ts';
import { cacheHosts } from '../../lib/model/facts.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { transformsOf } from '../../lib/model/transforms.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { run } from '../../lib/run.ts';
import { missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { labUpReady } from './bring-up.ts';

const skip = missingRoot() ?? missingLabDaemon();
const t = loadTopology(SITES_DIR);
const tr = transformsOf(t)!;
const IMG = t.cdn.imageHost;
const site = (id: string) => t.sites.find((s) => s.id === id)!;
const photos = photoSet();

interface Fetched {
  status: number;
  cache: string;
  servedBy: string;
  contentType: string;
  vary: string;
  body: Buffer;
  ms: number;
}

/** What real browsers send in Accept for an <img> (and curl's default): test/model/negotiate.test.ts. */
const ACCEPT = {
  chrome: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  safari: 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  webpOnly: 'image/webp,*/*;q=0.8',
  avifRefused: 'image/avif;q=0, image/webp',
  curl: '*/*',
} as const;

let fetches = 0;
async function fetchFrom(siteId: string, path: string, accept: string = ACCEPT.curl): Promise<Fetched> {
  const file = join(LAB_DIR, `fetch-transforms-${process.pid}-${fetches++}`);
  const t0 = performance.now();
  const r = await run('ip', ['netns', 'exec', nsOf.client(siteId), 'curl', '-s', '-D', '-', '-o', file, '--max-time', '10', '-H', `Host: ${IMG}`, '-H', `Accept: ${accept}`, `http://${site(siteId).vip.address}${path}`], { timeoutMs: 13_000 });
  const ms = performance.now() - t0;
  const body = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  rmSync(file, { force: true });
  const h = r.stdout;
  return {
    status: Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(h)?.[1] ?? 0),
    cache: (/^x-cache-status: (\w+)/im.exec(h)?.[1] ?? '').toUpperCase(),
    servedBy: /^x-served-by: (\S+)/im.exec(h)?.[1] ?? '',
    contentType: /^content-type: ([^\r\n;]+)/im.exec(h)?.[1] ?? '',
    vary: /^vary: ([^\r\n]+)/im.exec(h)?.[1] ?? '',
    body,
    ms,
  };
}

/** A whole PNG: signature, IHDR first, IEND last. */
function isWholePng(b: Buffer): boolean {
  return imageSize(b)?.type === 'png' && b.subarray(b.length - 8, b.length - 4).toString('ascii') === 'IEND';
}

/** Every cache access log line of a site (through each cache's host view) that names `path`. */
function cacheLogLines(siteId: string, path: string): string[] {
  return cacheHosts(site(siteId)).flatMap((h) => {
    const unit = h.cacheEngine === 'squid' ? 'squid' : 'nginx';
    const pid = mainPid(h.name, unit);
    const log = unit === 'squid' ? PATHS.squidAccessLog : PATHS.nginxAccessLog;
    const file = `/proc/${pid}/root${log}`;
    if (pid === undefined || !existsSync(file)) throw new Error(`${h.name}: cannot read ${log} (unit ${unit} pid ${pid})`);
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(path));
  });
}

const derived = (width: number, source: string) => `${tr.pathPrefix}/${width}/${source}`;

describe.skipIf(skip)('lab: derived images (images.transforms)', () => {
  beforeAll(async () => {
    await labUpReady(t, SITES_DIR);
  }, 120_000);

  afterAll(async () => {
    await labDown();
  }, 60_000);

  it('the model allows 64, 128, 256 and 512 under /_w (what this file asks for)', () => {
    expect({ prefix: tr.pathPrefix, widths: tr.widths }).toEqual({ prefix: '/_w', widths: [64, 128, 256, 512] });
  });

  it('ams (the shield, nginx): MISS that transforms, then HIT; a PNG of the asked width', async () => {
    const figures: string[] = [];
    for (const [i, width] of [[0, 256], [2, 512], [3, 64]] as const) {
      const p = photos[i]!;
      const path = derived(width, p.name);
      const first = await fetchFrom('ams', path);
      const second = await fetchFrom('ams', path);
      const size = imageSize(first.body);
      expect({ status: first.status, cache: first.cache, type: first.contentType, size: size && { type: size.type, width: size.width } }, path).toEqual({
        status: 200,
        cache: 'MISS',
        type: 'image/png',
        size: { type: 'png', width },
      });
      expect(Math.abs(size!.height - (p.height * width) / p.width), `${path}: height keeps the aspect ratio`).toBeLessThanOrEqual(1);
      expect(isWholePng(first.body), `${path}: a whole PNG`).toBe(true);
      expect(first.body.length, `${path}: smaller than the original`).toBeLessThan(p.data.length);
      expect({ status: second.status, cache: second.cache, same: second.body.equals(first.body) }, path).toEqual({ status: 200, cache: 'HIT', same: true });
      figures.push(`${path}: ${p.width}x${p.height} ${(p.data.length / 1024).toFixed(0)} KiB -> ${size!.width}x${size!.height} ${(first.body.length / 1024).toFixed(0)} KiB; MISS ${first.ms.toFixed(0)} ms, HIT ${second.ms.toFixed(0)} ms`);
    }
    console.log(`derived images at ams:\n  ${figures.join('\n  ')}`);
  }, 60_000);

  // With formats, Squid does not cache derived images (lib/render/squid-transforms.ts says why):
  // each comes from the shield, where it was made once.
  it('nyc (Squid, through the shield): from the shield each time; made once, at ams, for both sites', async () => {
    const p = photos[1]!;
    const path = derived(128, p.name);
    const first = await fetchFrom('nyc', path);
    const second = await fetchFrom('nyc', path);
    const size = imageSize(first.body);
    expect({ status: first.status, cache: first.cache, size: size && { type: size.type, width: size.width } }).toEqual({ status: 200, cache: 'MISS', size: { type: 'png', width: 128 } });
    expect(isWholePng(first.body)).toBe(true);
    expect({ status: second.status, cache: second.cache, same: second.body.equals(first.body), servedBy: second.servedBy }).toEqual({
      status: 200,
      cache: 'MISS',
      same: true,
      servedBy: expect.stringMatching(/^nyc-cache[12]$/),
    });
    // nyc's Squid asked the shield, whose nginx made it: ams now has it.
    const atShield = await fetchFrom('ams', path);
    expect({ status: atShield.status, cache: atShield.cache, same: atShield.body.equals(first.body) }).toEqual({ status: 200, cache: 'HIT', same: true });
    console.log(`derived image through nyc (Squid): ${first.ms.toFixed(0)} ms (made at ams), then ${second.ms.toFixed(0)} ms (a hit at ams)`);
  }, 60_000);

  it('a width not allowed, a non-canonical spelling or a chain is refused with 400 by haproxy; no cache sees it', async () => {
    const p = photos[0]!.name;
    const refused = [derived(300, p), `${tr.pathPrefix}/0256/${p}`, `${tr.pathPrefix}/256//${p}`, `${tr.pathPrefix}/256/`, `${tr.pathPrefix}/w256/${p}`, `${tr.pathPrefix}/64${tr.pathPrefix}/512/${p}`];
    for (const siteId of ['ams', 'nyc']) {
      for (const path of refused) {
        const r = await fetchFrom(siteId, path);
        expect({ path, status: r.status, servedBy: r.servedBy, body: r.body.toString('utf8') }).toEqual({ path, status: 400, servedBy: '', body: expect.stringContaining('width one of 64, 128, 256, 512') });
      }
    }
    for (const siteId of ['ams', 'nyc']) expect(cacheLogLines(siteId, '/0256/').concat(cacheLogLines(siteId, `${tr.pathPrefix}/300/`)), `${siteId}: a cache saw a refused request`).toEqual([]);
  }, 60_000);

  it('an original narrower than the width is served as it is (libvips never enlarges)', async () => {
    const small = imageSet(1)[0]!;
    const r = await fetchFrom('ams', derived(512, small.name));
    expect({ status: r.status, size: imageSize(r.body)?.width, same: r.body.equals(small.data) }).toEqual({ status: 200, size: imageSize(small.data)!.width, same: true });
  }, 30_000);
  /** The type and width the bytes say, the Content-Type, Vary and cache status of one fetch. */
  const seen = (r: Fetched) => ({ status: r.status, cache: r.cache, bytes: imageSize(r.body)?.type, width: imageSize(r.body)?.width, contentType: r.contentType, vary: r.vary });
  const as = (type: 'avif' | 'webp' | 'png', width: number, cache: string) => ({ status: 200, cache, bytes: type, width, contentType: `image/${type}`, vary: 'Accept' });

  it('ams (nginx): browsers get AVIF, a WebP-only client WebP, curl the PNG; one cached copy per format, whatever the Accept string', async () => {
    const width = 128;
    const path = derived(width, photos[0]!.name);
    const got: Record<string, unknown> = {};
    const bodies: Record<string, Buffer> = {};
    for (const who of ['chrome', 'firefox', 'safari', 'webpOnly', 'avifRefused', 'curl'] as const) {
      const r = await fetchFrom('ams', path, ACCEPT[who]);
      got[who] = seen(r);
      bodies[who] = r.body;
    }
    expect(got).toEqual({
      chrome: as('avif', width, 'MISS'),
      // another browser's Accept, the same format: the copy Chrome's request made
      firefox: as('avif', width, 'HIT'),
      safari: as('avif', width, 'HIT'),
      webpOnly: as('webp', width, 'MISS'),
      avifRefused: as('webp', width, 'HIT'),
      curl: as('png', width, 'MISS'),
    });
    expect([bodies.firefox!.equals(bodies.chrome!), bodies.safari!.equals(bodies.chrome!), bodies.avifRefused!.equals(bodies.webpOnly!)]).toEqual([true, true, true]);
    // The caches' files: exactly one per format for this URL (nginx writes "KEY: <key>" in each).
    const keys = cacheHosts(site('ams')).flatMap((h) => {
      const dir = `/proc/${mainPid(h.name, 'nginx')}/root${t.cdn.cache.nginx.path}`;
      const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
      return walk(dir).map((f) => /\nKEY: ([^\n]*)\n/.exec(readFileSync(f).subarray(0, 4096).toString('latin1'))?.[1] ?? '').filter((k) => k.endsWith(path));
    });
    expect(keys.sort()).toEqual([path, `avif${path}`, `webp${path}`]);
    console.log(`formats at ams, ${path}: AVIF ${bodies.chrome!.length} B, WebP ${bodies.webpOnly!.length} B, PNG ${bodies.curl!.length} B`);
  }, 60_000);

  it('nyc (Squid, through the shield): the same three formats, each from the shield; a cached AVIF never reaches a client that did not ask', async () => {
    const width = 256;
    const path = derived(width, photos[2]!.name);
    // Squid keeps none of them (a MISS at nyc each time); the shield holds one per format.
    const order = [
      ['chrome', 'avif', 'MISS'],
      ['curl', 'png', 'MISS'],
      ['webpOnly', 'webp', 'MISS'],
      ['curl', 'png', 'MISS'],
      ['firefox', 'avif', 'MISS'],
      ['avifRefused', 'webp', 'MISS'],
      ['safari', 'avif', 'MISS'],
    ] as const;
    const got = [];
    for (const [who] of order) got.push([who, seen(await fetchFrom('nyc', path, ACCEPT[who]))]);
    expect(got).toEqual(order.map(([who, type, cache]) => [who, as(type, width, cache)]));
  }, 60_000);

  it('sin (nginx, through the shield): Chrome gets AVIF made at ams, then a HIT at sin', async () => {
    const path = derived(64, photos[1]!.name);
    const first = seen(await fetchFrom('sin', path, ACCEPT.chrome));
    const second = seen(await fetchFrom('sin', path, ACCEPT.chrome));
    const plain = seen(await fetchFrom('sin', path));
    expect([first, second, plain]).toEqual([as('avif', 64, 'MISS'), as('avif', 64, 'HIT'), as('png', 64, 'MISS')]);
  }, 60_000);
});
