// A minimal, deterministic ustar writer: regular files only, sorted by path, owner root:root,
// one fixed mtime, no directory entries (tar creates missing parents on extract, so existing
// directories such as /etc keep their own mode and mtime).
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  /** Path inside the archive, relative (etc/bird/bird.conf). */
  path: string;
  content: Buffer;
  mode: number;
}

const BLOCK = 512;
const RECORD = BLOCK * 20;
/** 2000-01-01T00:00:00Z: fixed, so the archive never depends on the clock. */
export const TAR_MTIME = 946684800;

export function tar(entries: TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.path === e.path) throw new Error(`internal: tar entry ${e.path} appears twice`);
    parts.push(header(e), e.content, Buffer.alloc(pad(e.content.length)));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.alloc((RECORD - (body.length % RECORD)) % RECORD)]);
}

/** gzip with a zero header mtime (zlib's default), so equal input gives equal bytes. */
export function tarGz(entries: TarEntry[]): Buffer {
  return gzipSync(tar(entries), { level: 9 });
}

function pad(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function header(e: TarEntry): Buffer {
  if (e.path.startsWith('/') || e.path.split('/').includes('..')) throw new Error(`internal: tar path ${e.path} must be relative, without ..`);
  const [prefix, name] = splitPath(e.path);
  const h = Buffer.alloc(BLOCK);
  write(h, 0, 100, name);
  write(h, 100, 8, octal(e.mode & 0o7777, 7));
  write(h, 108, 8, octal(0, 7));
  write(h, 116, 8, octal(0, 7));
  write(h, 124, 12, octal(e.content.length, 11));
  write(h, 136, 12, octal(TAR_MTIME, 11));
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  write(h, 156, 1, '0');
  write(h, 257, 6, 'ustar\0');
  write(h, 263, 2, '00');
  write(h, 265, 32, 'root');
  write(h, 297, 32, 'root');
  write(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  write(h, 148, 8, `${octal(sum, 6)}\0 `);
  return h;
}

/** ustar keeps names over 100 bytes as prefix (up to 155) + "/" + name (up to 100). */
function splitPath(path: string): [prefix: string, name: string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return [prefix, name];
  }
  throw new Error(`internal: tar path ${path} is too long for ustar (255 bytes)`);
}

function octal(n: number, digits: number): string {
  const s = n.toString(8);
  if (s.length > digits) throw new Error(`internal: ${n} does not fit a tar header field`);
  return s.padStart(digits, '0');
}

function write(h: Buffer, at: number, len: number, s: string): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > len) throw new Error(`internal: ${JSON.stringify(s)} does not fit a tar header field of ${len} bytes`);
  b.copy(h, at);
}
