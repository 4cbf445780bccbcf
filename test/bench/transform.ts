// Derived images: transforms per second per core. One nginx with one worker process (so one core
// at most) runs the model's image_filter settings (filterSettings, resize: the same nodes the
// transform server is rendered from) on originals it reads from disk, with no cache: every request
// is a transform. A trial asks for a fixed number of transforms one after the other on one
// keep-alive connection, sized from the CPU the first few took (about TRANSFORM_CPU_SEC of work),
// and divides them by the CPU seconds the worker used meanwhile (utime + stime from /proc):
// transforms per second of one core whatever else the machine runs, and no transform is cut at a
// trial's end. Beside it,
// the same worker serving each original as it is (wrk on loopback, measured once per source, since
// every width of a source shares it), in the same trials.
// Sources: the lab's photo PNGs, and a JPEG of the same size when cjpeg (libjpeg-turbo-progs) is
// there to make one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { photoSet, imageSize, rng } from '../../lib/lab/images.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { transformsOf } from '../../lib/model/transforms.ts';
import { filterSettings, IMAGE_FILTER_MODULE, resize } from '../../lib/render/nginx-transforms.ts';
import { block, stmt } from '../../lib/render/syntax/brace.ts';
import { emitNginx, quote } from '../../lib/render/syntax/nginx.ts';
import { stats, type Results } from './results.ts';
import { WRK } from './throughput.ts';

const PORT = 18089;
/** Wall seconds of one wrk run of an original sent as is (thousands of requests). */
const PLAIN_SEC = 1;
/** About this much work per transform trial, at least MIN_TRANSFORMS transforms. */
const TRANSFORM_CPU_SEC = 0.8;
const MIN_TRANSFORMS = 4;
/** The transforms that size a trial: until the worker has used this much CPU (at most 50). */
const CALIBRATE_CPU_SEC = 0.15;
const TRIALS = 3;
const CJPEG = '/usr/bin/cjpeg';

/** A smooth RGB picture as binary PPM (for cjpeg): gradients plus a little seeded noise. */
function ppm(width: number, height: number, seed: number): Buffer {
  const next = rng(seed);
  const head = Buffer.from(`P6\n${width} ${height}\n255\n`, 'ascii');
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      px[i] = (x * 255) / width + next() * 24;
      px[i + 1] = (y * 255) / height + next() * 24;
      px[i + 2] = ((x + y) * 127) / (width + height) + next() * 24;
    }
  }
  return Buffer.concat([head, px]);
}

function workerCpuSec(master: number): number {
  const kids = spawnSync('pgrep', ['-P', String(master)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  const tick = 100; // USER_HZ on Linux
  return kids.reduce((sum, pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return sum + (Number(f[11]) + Number(f[12])) / tick;
  }, 0);
}

function wrkRequests(url: string): { requests: number } {
  const r = spawnSync(WRK, ['-t1', '-c2', `-d${PLAIN_SEC}s`, '--timeout', '5s', url], { encoding: 'utf8', timeout: (PLAIN_SEC + 20) * 1000 });
  if (r.status !== 0) throw new Error(`bench: wrk ${url} exited ${r.status}: ${r.stderr}`);
  const m = /(\d+) requests in/.exec(r.stdout);
  if (!m) throw new Error(`bench: no request count in wrk's output: ${r.stdout}`);
  if (/Non-2xx/.test(r.stdout)) throw new Error(`bench: ${url} answered errors: ${r.stdout}`);
  return { requests: Number(m[1]) };
}

async function fetchOnce(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`bench: ${url} answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export async function transformBench(res: Results, root: string, scratch: string): Promise<void> {
  if (!existsSync(WRK)) {
    res.notes.push('transform figures skipped: wrk is not installed (apt-get install wrk)');
    return;
  }
  if (!existsSync(IMAGE_FILTER_MODULE)) {
    res.notes.push(`transform figures skipped: ${IMAGE_FILTER_MODULE} is missing (apt-get install libnginx-mod-http-image-filter)`);
    return;
  }
  const tr = transformsOf(loadTopology(join(root, 'sites')));
  if (!tr) throw new Error('bench: the shipped model has no images.transforms');
  const dir = join(scratch, 'transform');
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  for (const d of ['logs', 'temp']) mkdirSync(join(dir, d), { recursive: true });
  const photo = photoSet()[0]!;
  const sources: { name: string; what: string }[] = [];
  writeFileSync(join(www, 'photo.png'), photo.data);
  sources.push({ name: 'photo.png', what: `PNG ${photo.width}x${photo.height}, ${Math.round(photo.data.length / 1024)} KiB` });
  if (existsSync(CJPEG)) {
    writeFileSync(join(dir, 'photo.ppm'), ppm(photo.width, photo.height, 7));
    const j = spawnSync(CJPEG, ['-quality', '85', '-outfile', join(www, 'photo.jpg'), join(dir, 'photo.ppm')]);
    if (j.status !== 0) throw new Error(`bench: cjpeg failed: ${j.stderr}`);
    sources.push({ name: 'photo.jpg', what: `JPEG ${photo.width}x${photo.height}, ${Math.round(readFileSync(join(www, 'photo.jpg')).length / 1024)} KiB` });
  } else {
    res.notes.push('transform: JPEG sources skipped: cjpeg is not installed (apt-get install libjpeg-turbo-progs)');
  }
  const widths = [...new Set(tr.widths)].sort((a, b) => a - b);
  const conf = emitNginx([
    stmt('load_module', quote(IMAGE_FILTER_MODULE)),
    // as root the worker would otherwise be nobody, who cannot read the private scratch directory
    ...(process.getuid?.() === 0 ? [stmt('user', 'root')] : []),
    stmt('worker_processes', 1),
    stmt('pid', quote(join(dir, 'nginx.pid'))),
    stmt('error_log', quote(join(dir, 'logs', 'error.log')), 'warn'),
    block(['events'], [stmt('worker_connections', 64)]),
    block(['http'], [
      stmt('access_log', 'off'),
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => stmt(`${k}_temp_path`, quote(join(dir, 'temp', k)))),
      block(['types'], [stmt('image/png', 'png'), stmt('image/jpeg', 'jpg')]),
      block(['server'], [
        stmt('listen', quote(`127.0.0.1:${PORT}`)),
        stmt('root', quote(www)),
        ...filterSettings(tr),
        block(['location', '~', `^${tr.pathPrefix}/(?<anycdn_width>${widths.join('|')})/`], [resize(), stmt('rewrite', `^${tr.pathPrefix}/[0-9]+(/.*)$`, '$1', 'break')]),
      ]),
    ]),
  ]);
  writeFileSync(join(dir, 'nginx.conf'), `${conf.join('\n')}\n`);
  const nginx: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  try {
    const base = `http://127.0.0.1:${PORT}`;
    for (let i = 0; i < 50; i++) {
      if (await fetch(`${base}/${sources[0]!.name}`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const src of sources) {
      const plainUrl = `${base}/${src.name}`;
      const original = await fetchOnce(plainUrl);
      const rows = [];
      for (const width of widths) {
        const url = `${base}${tr.pathPrefix}/${width}/${src.name}`;
        const out = await fetchOnce(url);
        // Sized by the worker's CPU, not the wall clock, which a busy machine stretches.
        const cpu0 = workerCpuSec(nginx.pid!);
        let made = 0;
        while (made < 50 && workerCpuSec(nginx.pid!) - cpu0 < CALIBRATE_CPU_SEC) {
          await fetchOnce(url);
          made++;
        }
        const count = Math.max(MIN_TRANSFORMS, Math.round((TRANSFORM_CPU_SEC * made) / (workerCpuSec(nginx.pid!) - cpu0)));
        const size = imageSize(out);
        if (size?.width !== width) throw new Error(`bench: ${url} is not ${width} wide: ${JSON.stringify(size)}`);
        rows.push({ width, url, count, kib: Math.round(out.length / 1024), perCore: [] as number[] });
      }
      const plain: number[] = [];
      // Trial by trial, every width and then the original, so a change of load falls on all alike.
      for (let trial = 0; trial < TRIALS; trial++) {
        for (const row of rows) {
          const cpu0 = workerCpuSec(nginx.pid!);
          for (let i = 0; i < row.count; i++) await fetchOnce(row.url);
          const cpu = workerCpuSec(nginx.pid!) - cpu0;
          row.perCore.push(cpu > 0 ? row.count / cpu : NaN);
        }
        const cpu0 = workerCpuSec(nginx.pid!);
        const { requests } = wrkRequests(plainUrl);
        const cpu = workerCpuSec(nginx.pid!) - cpu0;
        plain.push(cpu > 0 ? requests / cpu : NaN);
      }
      for (const row of rows) {
        res.add({
          section: 'transform',
          what: `${src.what} -> ${row.width} px wide (${row.kib} KiB): transforms per CPU second of one nginx worker`,
          unit: ' /s',
          anycdn: stats(row.perCore),
          baseline: { ...stats(plain), what: `the same original served as is (${Math.round(original.length / 1024)} KiB)` },
          ratio: stats(row.perCore).median / stats(plain).median,
          note: `${row.count} transforms per trial`,
        });
      }
    }
  } finally {
    nginx.kill('SIGTERM');
  }
}
