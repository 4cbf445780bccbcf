// Derived images: transforms per CPU second, libvips (anycdn-thumbnailer, the engine the caches
// run) side by side with what it replaced and with its floor:
// - anycdn-thumbnailer with one worker, the model's qualities, its originals from a plain nginx on
//   loopback; its CPU is the server's and the worker's together (utime + stime from /proc);
// - nginx's image_filter (libgd, Debian libnginx-mod-http-image-filter), the engine before issue
//   29, in one nginx worker with the settings the caches had (quality 80, no interlace); skipped
//   with a note when the module is not installed;
// - vipsthumbnail (libvips-tools) on the same files, one process for a whole trial's files: the
//   floor, libvips with no HTTP and no service around it; skipped with a note when missing.
// A trial asks for a fixed number of transforms one after the other, sized from the CPU the first
// few took (about TRANSFORM_CPU_SEC of work), and divides them by the CPU seconds used meanwhile:
// transforms per second of one core whatever else the machine runs. Every width in the source's
// format; AVIF and WebP at WIDTH_FORMATS, with their bytes against the source format's.
// Sources: the lab's 1024x683 photo as PNG, and as JPEG (quality 85, made by libvips).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { photoSet, imageSize } from '../../lib/lab/images.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { transformsOf, type Format, type Transforms } from '../../lib/model/transforms.ts';
import { block, stmt } from '../../lib/render/syntax/brace.ts';
import { emitNginx, quote } from '../../lib/render/syntax/nginx.ts';
import { stats, type Results } from './results.ts';

const PYTHON = '/usr/bin/python3';
const PROGRAM_REL = join('lib', 'thumbnailer', 'anycdn-thumbnailer.py');
/** The engine before issue 29, for the side-by-side rows. */
const IMAGE_FILTER_MODULE = '/usr/lib/nginx/modules/ngx_http_image_filter_module.so';
const VIPSTHUMBNAIL = '/usr/bin/vipsthumbnail';
/** About this much work per trial, at least MIN_TRANSFORMS transforms. */
const TRANSFORM_CPU_SEC = 0.8;
const MIN_TRANSFORMS = 4;
/** The transforms that size a trial: until this much CPU is used (at most 50). */
const CALIBRATE_CPU_SEC = 0.15;
const TRIALS = 3;
/** The width the AVIF and WebP rows are measured at. */
const WIDTH_FORMATS = 256;

function cpuOfPid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/** CPU seconds of a process and its children (nginx's workers, the thumbnailer's). */
function treeCpuSec(pid: number, withSelf: boolean): number {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  return kids.reduce((sum, k) => sum + cpuOfPid(k), withSelf ? cpuOfPid(pid) : 0);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function fetchOnce(url: string, format = ''): Promise<Buffer> {
  const res = await fetch(url, { headers: format ? { 'X-Anycdn-Format': format } : {} });
  if (res.status !== 200) throw new Error(`bench: ${url} ${format} answered ${res.status}: ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bench: ${url} did not answer within 10 s`);
}

/** How many transforms make about TRANSFORM_CPU_SEC of work. */
async function calibrate(one: () => Promise<unknown>, cpu: () => number): Promise<number> {
  const c0 = cpu();
  let made = 0;
  while (made < 50 && cpu() - c0 < CALIBRATE_CPU_SEC) {
    await one();
    made++;
  }
  return Math.max(MIN_TRANSFORMS, Math.round((TRANSFORM_CPU_SEC * made) / Math.max(cpu() - c0, 0.01)));
}

async function trial(count: number, one: () => Promise<unknown>, cpu: () => number): Promise<number> {
  const c0 = cpu();
  for (let i = 0; i < count; i++) await one();
  const used = cpu() - c0;
  return used > 0 ? count / used : NaN;
}

/** vipsthumbnail on `count` links to one source in one process: transforms per CPU second. */
function vipsthumbnailTrial(dir: string, source: string, count: number, width: number, out: string): number {
  const links = join(dir, 'links');
  mkdirSync(links, { recursive: true });
  const ext = source.slice(source.lastIndexOf('.'));
  const inputs = Array.from({ length: count }, (_, i) => {
    const p = join(links, `${i}${ext}`);
    if (!existsSync(p)) symlinkSync(source, p);
    return p;
  });
  // The children's CPU (cutime + cstime) of the shell, read after vipsthumbnail ended.
  const script = `"$@" >/dev/null 2>&1 || exit 1; cat /proc/$$/stat`;
  const r = spawnSync('/bin/sh', ['-c', script, 'sh', VIPSTHUMBNAIL, '--vips-concurrency=1', '-s', `${width}x`, '-o', join(dir, out), ...inputs], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`bench: vipsthumbnail failed: ${r.stderr}`);
  const f = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(f[13]) + Number(f[14])) / 100;
  return cpu > 0 ? count / cpu : NaN;
}

/** A JPEG of the PNG, quality 85, made by the thumbnailer's own libvips engine. */
function jpegOf(root: string, png: string, jpg: string): void {
  const code = [
    'import importlib.util, sys',
    'spec = importlib.util.spec_from_file_location("t", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
    'e = m.Engine({})',
    'img = e.out(e.run("pngload_buffer", buffer=e.Vips.Blob.copy(open(sys.argv[2], "rb").read())), "out")',
    'open(sys.argv[3], "wb").write(e.out(e.run("jpegsave_buffer", in_=img, Q=85), "buffer").get())',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-I', '-B', '-c', code, join(root, PROGRAM_REL), png, jpg], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`bench: making the JPEG failed: ${r.stderr}`);
}

function nginxConf(dir: string, www: string, port: number, tr: Transforms, filter: boolean): string {
  return `${emitNginx([
    ...(filter ? [stmt('load_module', quote(IMAGE_FILTER_MODULE))] : []),
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
        stmt('listen', quote(`127.0.0.1:${port}`)),
        stmt('root', quote(www)),
        ...(filter
          ? [
              // The caches' settings before issue 29 (the model's qualities, no interlace).
              stmt('image_filter_buffer', `${tr.maxSourceMiB}m`),
              stmt('image_filter_jpeg_quality', tr.jpegQuality),
              stmt('image_filter_webp_quality', tr.webpQuality),
              stmt('image_filter_interlace', 'off'),
              stmt('image_filter_transparency', 'on'),
              block(['location', '~', `^${tr.pathPrefix}/(?<anycdn_width>[0-9]+)/`], [stmt('image_filter', 'resize', '$anycdn_width', '-'), stmt('rewrite', `^${tr.pathPrefix}/[0-9]+(/.*)$`, '$1', 'break')]),
            ]
          : []),
      ]),
    ]),
  ]).join('\n')}\n`;
}

export async function transformBench(res: Results, root: string, scratch: string): Promise<void> {
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import gi; gi.require_version("Vips", "8.0")']).status !== 0) {
    res.notes.push('transform figures skipped: libvips through python3 is missing (apt-get install python3-gi gir1.2-vips-8.0)');
    return;
  }
  const tr = transformsOf(loadTopology(join(root, 'sites')));
  if (!tr) throw new Error('bench: the shipped model has no images.transforms');
  const dir = join(scratch, 'transform');
  const www = join(dir, 'www');
  for (const d of ['www', 'logs', 'temp', 'out']) mkdirSync(join(dir, d), { recursive: true });
  const photo = photoSet()[0]!;
  writeFileSync(join(www, 'photo.png'), photo.data);
  jpegOf(root, join(www, 'photo.png'), join(www, 'photo.jpg'));
  const sources = [
    { name: 'photo.jpg', type: 'JPEG', bytes: readFileSync(join(www, 'photo.jpg')).length },
    { name: 'photo.png', type: 'PNG', bytes: photo.data.length },
  ].map((s) => ({ ...s, what: `${s.type} ${photo.width}x${photo.height}, ${Math.round(s.bytes / 1024)} KiB` }));
  const filter = existsSync(IMAGE_FILTER_MODULE);
  if (!filter) res.notes.push(`transform: the image_filter rows skipped: ${IMAGE_FILTER_MODULE} is missing (apt-get install libnginx-mod-http-image-filter)`);
  const floor = existsSync(VIPSTHUMBNAIL);
  if (!floor) res.notes.push(`transform: the vipsthumbnail rows skipped: ${VIPSTHUMBNAIL} is missing (apt-get install libvips-tools)`);

  const nginxPort = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, www, nginxPort, tr, filter));
  const thumbPort = await freePort();
  const widths = [...new Set(tr.widths)].sort((a, b) => a - b);
  const config = {
    '//': 'bench',
    listen: { address: '127.0.0.1', port: thumbPort },
    originals: { address: '127.0.0.1', port: nginxPort, host: 'bench', timeoutSec: 10 },
    pathPrefix: tr.pathPrefix,
    widths,
    formats: ['avif', 'webp'],
    vary: true,
    quality: { jpeg: tr.jpegQuality, webp: tr.webpQuality, avif: tr.avifQuality, avifEffort: tr.avifEffort },
    maxSourceBytes: tr.maxSourceMiB * 2 ** 20,
    maxSourcePixels: tr.maxSourceMegapixels * 1_000_000,
    timeoutSec: 60,
    queueTimeoutSec: 60,
    workers: 1,
    maxConnections: 16,
  };
  writeFileSync(join(dir, 'thumbnailer.json'), JSON.stringify(config));
  const nginx: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  const thumb: ChildProcess = spawn(PYTHON, ['-I', '-B', join(root, PROGRAM_REL), join(dir, 'thumbnailer.json')], { stdio: 'ignore' });
  try {
    const nginxBase = `http://127.0.0.1:${nginxPort}`;
    const thumbBase = `http://127.0.0.1:${thumbPort}`;
    await waitFor(`${nginxBase}/photo.png`);
    await waitFor(`${thumbBase}/.anycdn/thumbnailer`);
    const thumbCpu = () => treeCpuSec(thumb.pid!, true);
    const nginxCpu = () => treeCpuSec(nginx.pid!, false);
    for (const src of sources) {
      const rows: { width: number; format: Format | ''; count: number; bytes: number; vips: number[]; gd: number[]; floor: number[] }[] = [];
      for (const width of widths) rows.push({ width, format: '', count: 0, bytes: 0, vips: [], gd: [], floor: [] });
      for (const format of ['webp', 'avif'] as const) rows.push({ width: WIDTH_FORMATS, format, count: 0, bytes: 0, vips: [], gd: [], floor: [] });
      for (const row of rows) {
        const url = `${thumbBase}${tr.pathPrefix}/${row.width}/${src.name}`;
        const out = await fetchOnce(url, row.format);
        const size = imageSize(out);
        if (size?.width !== row.width || size.type !== (row.format || (src.type === 'JPEG' ? 'jpeg' : 'png'))) throw new Error(`bench: ${url} ${row.format} is not ${row.width} wide: ${JSON.stringify(size)}`);
        row.bytes = out.length;
        row.count = await calibrate(() => fetchOnce(url, row.format), thumbCpu);
      }
      // Trial by trial, every row and engine, so a change of load falls on all alike.
      for (let t = 0; t < TRIALS; t++) {
        for (const row of rows) {
          const path = `${tr.pathPrefix}/${row.width}/${src.name}`;
          row.vips.push(await trial(row.count, () => fetchOnce(`${thumbBase}${path}`, row.format), thumbCpu));
          if (filter && row.format === '') row.gd.push(await trial(row.count, () => fetchOnce(`${nginxBase}${path}`), nginxCpu));
          if (floor) {
            const ext = row.format ? `.${row.format}` : src.name.slice(src.name.lastIndexOf('.'));
            const opts = row.format === 'avif' ? `[Q=${tr.avifQuality},effort=${tr.avifEffort},compression=av1,strip]` : row.format === 'webp' ? `[Q=${tr.webpQuality},strip]` : ext === '.jpg' ? `[Q=${tr.jpegQuality},strip,interlace,optimize_coding]` : '[strip]';
            row.floor.push(vipsthumbnailTrial(join(dir, 'out'), join(www, src.name), row.count, row.width, `%s-${row.width}${ext}${opts}`));
          }
        }
      }
      const base = rows.find((r) => r.format === '' && r.width === WIDTH_FORMATS)!;
      for (const row of rows) {
        const into = row.format ? row.format.toUpperCase() : src.type;
        const vips = stats(row.vips);
        const note = `${row.count} transforms per trial${floor ? `; vipsthumbnail (the floor) ${stats(row.floor).median.toFixed(0)} /s, the service at ${(vips.median / stats(row.floor).median).toFixed(2)} of it` : ''}`;
        if (row.format === '') {
          res.add({
            section: 'transform',
            what: `${src.what} -> ${row.width} px ${into} (${(row.bytes / 1024).toFixed(1)} KiB): transforms per CPU second, libvips (anycdn-thumbnailer) against image_filter (libgd)`,
            unit: ' /s',
            anycdn: vips,
            ...(filter ? { baseline: { ...stats(row.gd), what: 'nginx image_filter, the same original and width' }, ratio: vips.median / stats(row.gd).median } : {}),
            ...(src.type === 'JPEG' && filter ? { target: '>= 4x image_filter (issue 29)', met: vips.median / stats(row.gd).median >= 4 } : {}),
            note,
          });
        } else {
          res.add({
            section: 'transform',
            what: `${src.what} -> ${row.width} px ${into}: ${(row.bytes / 1024).toFixed(1)} KiB against ${(base.bytes / 1024).toFixed(1)} KiB as ${src.type} (${((100 * row.bytes) / base.bytes).toFixed(0)} %); transforms per CPU second`,
            unit: ' /s',
            anycdn: vips,
            ...(floor ? { baseline: { ...stats(row.floor), what: 'vipsthumbnail, the same file, width and settings' }, ratio: vips.median / stats(row.floor).median } : {}),
            note: `${row.count} transforms per trial`,
          });
        }
      }
    }
  } finally {
    thumb.kill('SIGTERM');
    nginx.kill('SIGTERM');
  }
}
