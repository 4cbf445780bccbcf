// anycdn-thumbnailer itself (lib/thumbnailer/anycdn-thumbnailer.py), run for real on loopback by
// Debian's python3 with libvips, its originals served by a tiny HTTP server in this test. What
// issue 29 asks of the engine: the width asked for, never enlarged; the format asked for; a
// progressive JPEG; Vary: Accept; a decompression bomb, a non-image and a too-large original
// refused with a 415 that is not cached, the service healthy after each; and a bounded queue:
// with its one worker held by a slow transform, the next request gets 503 busy (not a hang), the
// slow one 503 at timeoutSec, and the replaced worker serves again.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSize, isProgressiveJpeg } from '../../lib/lab/images.ts';
import { missingBinary } from '../helpers/daemons.ts';

const PROGRAM = join(import.meta.dirname, '..', '..', 'lib', 'thumbnailer', 'anycdn-thumbnailer.py');
const PYTHON = '/usr/bin/python3';
const skip = missingBinary(PYTHON, 'python3') ?? missingBinary('/usr/lib/python3/dist-packages/gi/__init__.py', 'python3-gi') ?? missingBinary('/usr/lib/girepository-1.0/Vips-8.0.typelib', 'gir1.2-vips-8.0');

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Got {
  status: number;
  type: string;
  vary: string;
  cacheControl: string;
  body: Buffer;
}

describe.skipIf(skip)('anycdn-thumbnailer on loopback', () => {
  let dir = '';
  let origin: Server;
  let thumb: ChildProcess;
  let port = 0;
  let stderr = '';
  const files = new Map<string, Buffer>();

  const get = async (path: string, format = '', timeoutMs = 30_000): Promise<Got> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: format ? { 'X-Anycdn-Format': format } : {}, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', vary: res.headers.get('vary') ?? '', cacheControl: res.headers.get('cache-control') ?? '', body: Buffer.from(await res.arrayBuffer()) };
  };
  const counts = async () => JSON.parse((await get('/.anycdn/thumbnailer')).body.toString()) as Record<string, number>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anycdn-thumbnailer-'));
    const made = spawnSync(PYTHON, ['-I', '-B', join(import.meta.dirname, 'make-images.py'), PROGRAM, dir], { encoding: 'utf8', timeout: 120_000 });
    if (made.status !== 0) throw new Error(`make-images.py: ${made.stderr}`);
    for (const f of ['photo.jpg', 'photo.png', 'small.jpg', 'bomb.png', 'big.jpg']) files.set(`/${f}`, readFileSync(join(dir, f)));
    files.set('/notes.txt', Buffer.from('not an image\n'));
    // Two frames of a 1x1 GIF (header, palette, loop extension, two frames): an animation
    const frame = '2c00000000010001000002024401' + '00';
    files.set('/anim.gif', Buffer.from(`47494638396101000100800000000000ffffff21ff0b4e45545343415045322e300301000000${frame}${frame}3b`, 'hex'));
    files.set('/huge.jpg', Buffer.concat([readFileSync(join(dir, 'photo.jpg')), Buffer.alloc(9 * 2 ** 20)]));
    origin = createServer((req, res) => {
      const body = files.get(req.url ?? '');
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': req.url!.endsWith('.png') ? 'image/png' : 'image/jpeg', 'Content-Length': body.length, 'Cache-Control': 'public, max-age=60' }).end(body);
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    port = await freePort();
    const config = {
      '//': 'test',
      listen: { address: '127.0.0.1', port },
      originals: { address: '127.0.0.1', port: (origin.address() as { port: number }).port, host: 'img.test', timeoutSec: 10 },
      pathPrefix: '/_w',
      widths: [64, 256, 4096],
      formats: ['avif', 'webp'],
      vary: true,
      // effort 9: an AVIF of big.jpg takes far longer than timeoutSec on any machine, a 256 px one a
      // few CPU seconds (timeoutSec is generous for a busy machine)
      quality: { jpeg: 80, webp: 80, avif: 50, avifEffort: 9 },
      maxSourceBytes: 8 * 2 ** 20,
      maxSourcePixels: 20_000_000,
      timeoutSec: 30,
      queueTimeoutSec: 1,
      workers: 1,
      maxConnections: 16,
    };
    writeFileSync(join(dir, 'thumbnailer.json'), JSON.stringify(config, null, 2));
    const check = spawnSync(PYTHON, ['-I', '-B', PROGRAM, '--check-config', join(dir, 'thumbnailer.json')], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    thumb = spawn(PYTHON, ['-I', '-B', PROGRAM, join(dir, 'thumbnailer.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    thumb.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${port}/.anycdn/thumbnailer`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the thumbnailer did not answer within 10 s: ${stderr}`);
  }, 180_000);

  afterAll(async () => {
    thumb?.kill('SIGTERM');
    await new Promise((r) => origin?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a JPEG shrunk to the width asked for: a progressive JPEG, the aspect kept, the origin\'s Cache-Control, Vary: Accept', async () => {
    const r = await get('/_w/256/photo.jpg');
    expect({ status: r.status, type: r.type, vary: r.vary, cacheControl: r.cacheControl, size: imageSize(r.body), progressive: isProgressiveJpeg(r.body) }).toEqual({
      status: 200,
      type: 'image/jpeg',
      vary: 'Accept',
      cacheControl: 'public, max-age=60',
      size: { type: 'jpeg', width: 256, height: 171 },
      progressive: true,
    });
  });

  // The pictures are noise: WebP at quality 80 may be larger than the JPEG of it, so only AVIF is held to the JPEG.
  it('AVIF and WebP on request, from a JPEG and from a PNG; AVIF smaller than the JPEG, both smaller than the PNG, of the same width', async () => {
    const out: Record<string, unknown> = {};
    const bytes: Record<string, number> = {};
    for (const src of ['photo.jpg', 'photo.png']) {
      bytes[src] = (await get(`/_w/256/${src}`)).body.length;
      for (const f of ['avif', 'webp']) {
        const r = await get(`/_w/256/${src}`, f);
        out[`${src} ${f}`] = { status: r.status, type: r.type, size: imageSize(r.body) };
        bytes[`${src} ${f}`] = r.body.length;
      }
    }
    const as = (type: 'avif' | 'webp') => ({ status: 200, type: `image/${type}`, size: { type, width: 256, height: 171 } });
    expect(out).toEqual({ 'photo.jpg avif': as('avif'), 'photo.jpg webp': as('webp'), 'photo.png avif': as('avif'), 'photo.png webp': as('webp') });
    expect({ avifUnderJpeg: bytes['photo.jpg avif']! < bytes['photo.jpg']!, avifUnderPng: bytes['photo.png avif']! < bytes['photo.png']!, webpUnderPng: bytes['photo.png webp']! < bytes['photo.png']! }).toEqual({
      avifUnderJpeg: true,
      avifUnderPng: true,
      webpUnderPng: true,
    });
  });

  it('never enlarges: a narrower original is sent as it is, or converted at its own width', async () => {
    const same = await get('/_w/256/small.jpg');
    expect({ status: same.status, same: same.body.equals(files.get('/small.jpg')!) }).toEqual({ status: 200, same: true });
    const webp = await get('/_w/256/small.jpg', 'webp');
    expect(imageSize(webp.body)).toEqual({ type: 'webp', width: 100, height: 80 });
  });

  it('refuses, with a 4xx that is not cached, a decompression bomb, a non-image and a too-large original; stays healthy', async () => {
    const refused = async (path: string) => {
      const r = await get(path);
      return { status: r.status, cacheControl: r.cacheControl };
    };
    expect(await refused('/_w/64/bomb.png')).toEqual({ status: 415, cacheControl: 'no-store' });
    expect(await refused('/_w/64/notes.txt')).toEqual({ status: 415, cacheControl: 'no-store' });
    expect(await refused('/_w/64/huge.jpg')).toEqual({ status: 415, cacheControl: 'no-store' });
    expect(await refused('/_w/64/anim.gif')).toEqual({ status: 415, cacheControl: 'no-store' });
    expect((await get('/_w/64/missing.jpg')).status).toBe(404);
    expect((await get('/_w/128/photo.jpg')).status).toBe(400);
    expect((await get('/_w/64/photo.jpg', 'jxl')).status).toBe(400);
    expect(stderr).toMatch(/415 \/_w\/64\/bomb\.png: 6000x6000 is 36000000 pixels, more than maxSourcePixels \(20000000\)/);
    expect(stderr).toMatch(/415 \/_w\/64\/anim\.gif: an animated or multi-page image \(2 frames\)/);
    const ok = await get('/_w/64/photo.jpg');
    expect({ status: ok.status, width: imageSize(ok.body)?.width }).toEqual({ status: 200, width: 64 });
  });

  it('a bounded queue: with the one worker busy the next request gets 503 at queueTimeoutSec, the slow one 503 at timeoutSec, then it serves again', async () => {
    const before = await counts();
    const slow = get('/_w/4096/big.jpg', 'avif', 60_000);
    // Long enough for the slow request's original (3.6 MB on loopback) to reach the worker.
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    const busy = await get('/_w/64/photo.png');
    const busyMs = performance.now() - t0;
    expect({ status: busy.status, cacheControl: busy.cacheControl, body: busy.body.toString() }).toEqual({ status: 503, cacheControl: 'no-store', body: 'busy: no worker free within 1 s\n' });
    expect(busyMs).toBeLessThan(4000);
    const s = await slow;
    expect({ status: s.status, body: s.body.toString() }).toEqual({ status: 503, body: 'the transform took longer than timeoutSec (30 s)\n' });
    const after = await counts();
    expect({ busy: after.busy! - before.busy!, timeouts: after.timeouts! - before.timeouts! }).toEqual({ busy: 1, timeouts: 1 });
    const again = await get('/_w/64/photo.png', 'webp', 60_000);
    expect({ status: again.status, size: imageSize(again.body) }).toEqual({ status: 200, size: { type: 'webp', width: 64, height: 43 } });
  }, 120_000);
});
