// Reading a file the user hands us (a site file, the render manifest, a tree given to
// `plan --against`, cdk.json, a checkout's .git files): the one place that opens one. anycdn runs
// as root, so a file must never make it hang, allocate without bound, read outside the directory
// it belongs to, or echo what it holds:
//
// - where the file must lie inside a directory, its real path (every symlink resolved) must, so a
//   `sites/x.yaml` linked to /etc/shadow is refused by name before anything is opened;
// - only regular files are opened (a FIFO blocks `open`, /dev/zero never ends, and opening some
//   devices acts: a watchdog arms), checked with lstat before the open and with fstat on the
//   descriptor after it, which is opened O_NONBLOCK | O_NOFOLLOW | O_NOCTTY, so a file swapped
//   for a FIFO or a link in between cannot block or redirect the read;
// - the size limit is enforced by the read itself, never by the stat size (0 for /proc files and
//   character devices);
// - text must be valid UTF-8: anything else is one line saying so, none of its bytes.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { fsReason } from './model/errors.ts';

/** What is wrong with an input file, in words; `kind` lets a caller choose the fix it names. */
export interface InputProblem {
  kind: 'missing' | 'directory' | 'special' | 'outside' | 'too-large' | 'not-utf8' | 'unreadable';
  /** What is wrong, lowercase, no fix: "is a FIFO, not a regular file". Never the file's content. */
  message: string;
}

export interface InputLimits {
  /** The most bytes the file may hold. */
  maxBytes: number;
  /** A directory the file's real path must lie inside. */
  within?: string;
}

export const isProblem = (r: unknown): r is InputProblem => typeof r === 'object' && r !== null && 'kind' in r && 'message' in r;

/** The file's text, or what is wrong with it. */
export function readInput(path: string, limits: InputLimits): string | InputProblem {
  const bytes = readInputBytes(path, limits);
  if (isProblem(bytes)) return bytes;
  try {
    // ignoreBOM keeps a byte-order mark as U+FEFF: the text is exactly the file.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { kind: 'not-utf8', message: 'is not UTF-8 text' };
  }
}

/** The file's bytes, or what is wrong with it. */
export function readInputBytes(path: string, limits: InputLimits): Buffer | InputProblem {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    return fileProblem(e, path);
  }
  if (limits.within !== undefined) {
    let root: string;
    try {
      root = realpathSync(limits.within);
    } catch (e) {
      return fileProblem(e, limits.within);
    }
    if (!inside(root, real)) {
      const link = isSymlink(path) ? `is a symlink to ${real}` : `resolves to ${real} through a symlinked directory`;
      return { kind: 'outside', message: `${link}, outside ${limits.within}` };
    }
  }
  let st: Stats;
  try {
    st = lstatSync(real);
  } catch (e) {
    return fileProblem(e, path);
  }
  const type = notRegular(st);
  if (type) return type;
  return readRegular(real, limits.maxBytes);
}

/**
 * Reads a regular file through one descriptor: opened without blocking and without following a
 * final symlink, fstat must say regular, at most `maxBytes` read. Exported for the tests, which
 * hand it a FIFO and a device directly (readInputBytes refuses those before opening them).
 */
export function readRegular(path: string, maxBytes: number): Buffer | InputProblem {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY);
  } catch (e) {
    return fileProblem(e, path);
  }
  try {
    const type = notRegular(fstatSync(fd));
    if (type) return type;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // One byte past the limit tells a file at the limit from a longer one.
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) return { kind: 'too-large', message: `is larger than ${maxBytes} bytes, the limit` };
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    return fileProblem(e, path);
  } finally {
    closeSync(fd);
  }
}

/** Is `path` inside `root` (both real paths), or `root` itself? */
export function inside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

function notRegular(st: Stats): InputProblem | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return { kind: 'directory', message: 'is a directory, not a file' };
  const what = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : st.isSymbolicLink() ? 'a symlink' : 'not a file';
  return { kind: 'special', message: `is ${what}, not a regular file` };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function fileProblem(e: unknown, path: string): InputProblem {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { kind: 'missing', message: isSymlink(path) ? 'is a symlink to a missing file' : 'no such file' };
  if (code === 'ENOTDIR') return { kind: 'missing', message: 'no such file (a part of its path is a file)' };
  if (code === 'ELOOP') return { kind: 'special', message: 'is a symlink (it changed while being read, or loops)' };
  if (code === 'EISDIR') return { kind: 'directory', message: 'is a directory, not a file' };
  return { kind: 'unreadable', message: `cannot read: ${fsReason(e)}` };
}
