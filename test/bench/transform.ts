// Derived images: transforms per second per core. One nginx with one worker process (so one core
// at most) runs the model's image_filter settings (filterSettings, resize: the same nodes the
// transform server is rendered from) on originals it reads from disk, with no cache: every request
// is a transform. wrk asks on loopback; the figure is requests divided by the CPU seconds the
// worker used (utime + stime from /proc), which is transforms per second of one core whatever
// else the machine runs. Beside it, the same worker serving the same originals as they are.
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
const SECONDS = Number(process.env.ANYCDN_BENCH_TRANSFORM_SEC ?? 4);
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
  const r = spawnSync(WRK, ['-t1', '-c2', `-d${SECONDS}s`, '--timeout', '5s', url], { encoding: 'utf8', timeout: (SECONDS + 20) * 1000 });
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
      const original = await fetchOnce(`${base}/${src.name}`);
      for (const width of widths) {
        const url = `${base}${tr.pathPrefix}/${width}/${src.name}`;
        const out = await fetchOnce(url);
        const size = imageSize(out);
        if (size?.width !== width) throw new Error(`bench: ${url} is not ${width} wide: ${JSON.stringify(size)}`);
        const perCore: number[] = [];
        const plain: number[] = [];
        for (let trial = 0; trial < TRIALS; trial++) {
          for (const [target, list] of [[url, perCore], [`${base}/${src.name}`, plain]] as const) {
            const cpu0 = workerCpuSec(nginx.pid!);
            const { requests } = wrkRequests(target);
            const cpu = workerCpuSec(nginx.pid!) - cpu0;
            list.push(cpu > 0 ? requests / cpu : NaN);
          }
        }
        res.add({
          section: 'transform',
          what: `${src.what} -> ${width} px wide (${Math.round(out.length / 1024)} KiB): transforms per CPU second of one nginx worker`,
          unit: ' /s',
          anycdn: stats(perCore),
          baseline: { ...stats(plain), what: `the same original served as is (${Math.round(original.length / 1024)} KiB)` },
          ratio: stats(perCore).median / stats(plain).median,
        });
      }
    }
  } finally {
    nginx.kill('SIGTERM');
  }
}
