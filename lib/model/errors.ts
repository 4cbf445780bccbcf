// One error type for everything the user can get wrong: a position in a file and a message that
// names the field, the bad value and the fix.
import { byCodePoint } from './order.ts';

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
}

export class InputError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`${diagnostics.length} error(s)`);
    this.name = 'InputError';
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** Sorted by file, then position, then text; exact duplicates dropped. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...ds]
    .sort((a, b) => byCodePoint(a.file, b.file) || a.line - b.line || a.col - b.col || byCodePoint(a.message, b.message))
    .filter((d) => {
      const key = formatDiagnostic(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}


/**
 * Show a user value in a message: quoted, long values cut, and everything outside printable
 * ASCII escaped, so a control character, a zero-width space or a Cyrillic "а" posing as a Latin
 * "a" is visible in the error instead of looking exactly like the accepted value.
 */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > 60 ? `${value.slice(0, 60)}... (${value.length} characters)` : value;
    return JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (value === undefined) return 'nothing';
  // JSON would show these as null: .nan, .inf and numbers too large for a double.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 60)}...` : json;
}

/**
 * Text that may hold pieces of the user's file (a library's message), made safe to print: at
 * most `max` characters, everything outside printable ASCII escaped as show() escapes it.
 */
export function printable(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return cut.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A key the user wrote that reads as itself in a dotted path; any other is shown quoted and cut. */
const PLAIN_KEY = /^[A-Za-z0-9_$-]{1,64}$/;

/**
 * A model path as messages name it: `bgp.peers[0].name`. Keys come from the user's file too
 * (unknown keys, subnet names), so a key that is not a plain name is shown as show() shows any
 * value, `x["a key: with\nnewline"]`, and never echoes more than a bounded piece of the file.
 */
export function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && PLAIN_KEY.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${show(typeof p === 'string' ? p : String(p))}]`;
  }
  return out || '(top level)';
}

/** The most error lines printed; the rest are counted in one `and N more` line. */
export const MAX_ERROR_LINES = 100;

/**
 * What to print for `ds`: the lines, sorted and without duplicates, at most MAX_ERROR_LINES of
 * them, then `and N more` when there are more; and the count of all of them, for the last line.
 */
export function reportLines(ds: Diagnostic[]): { lines: string[]; count: number } {
  const sorted = sortDiagnostics(ds);
  const lines = sorted.slice(0, MAX_ERROR_LINES).map(formatDiagnostic);
  if (sorted.length > MAX_ERROR_LINES) lines.push(`and ${sorted.length - MAX_ERROR_LINES} more`);
  return { lines, count: sorted.length };
}

/** A file-system failure in words, for messages that must not show Node's `ENOENT: ..., scandir` text. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ELOOP':
      return 'too many levels of symlinks';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'EBUSY':
      return 'the path is busy (a mount point?)';
    default:
      return code ? `failed (${code})` : 'failed';
  }
}
