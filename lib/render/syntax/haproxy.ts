// HAProxy's line-based dialect: sections (`global`, `defaults`, `frontend NAME`, ...) of keyword
// lines. Structure first, text once. Every word is either a bare token (checked here) or the
// output of quote(), the one place a value is quoted; identifiers come from model keys via ident().

export type HaproxyLine = { kind: 'kw'; words: string[] } | { kind: 'comment'; text: string } | { kind: 'blank' };

export interface HaproxySection {
  head: string[];
  /** A comment line above the section head. */
  comment?: string;
  lines: HaproxyLine[];
}

export const kw = (...words: (string | number)[]): HaproxyLine => ({ kind: 'kw', words: words.map(String) });
export const comment = (text: string): HaproxyLine => ({ kind: 'comment', text });
export const blank: HaproxyLine = { kind: 'blank' };

/** A token haproxy reads literally without quotes: no blanks, quotes, backslash, `#` or control characters. */
const BARE = /^[^\s"'\\#\x00-\x1f\x7f]+$/;
/** What quote() produces. */
const QUOTED = /^"(?:[^"\\$\x00-\x1f\x7f]|\\[\\"$#])*"$/;

/**
 * A double-quoted haproxy string. Inside double quotes haproxy expands `$VAR` and treats `\` as
 * an escape, so `\`, `"`, `$` and `#` are escaped; control characters cannot be carried at all.
 */
export function quote(s: string): string {
  if (/[\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: haproxy cannot quote ${JSON.stringify(s)} (control character)`);
  return `"${s.replace(/[\\"$#]/g, (c) => `\\${c}`)}"`;
}

/** A backend, frontend or server name from a model key ([a-z][a-z0-9-]*), unchanged so stats show it. */
export function ident(key: string): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(key)) throw new Error(`internal: ${JSON.stringify(key)} is not a model key`);
  return key;
}

export function emitHaproxy(sections: HaproxySection[]): string[] {
  const out: string[] = [];
  for (const s of sections) {
    if (out.length > 0) out.push('');
    if (s.comment !== undefined) out.push(`# ${s.comment}`);
    out.push(words(s.head));
    for (const l of s.lines) {
      if (l.kind === 'blank') out.push('');
      else if (l.kind === 'comment') out.push(`\t# ${l.text}`);
      else out.push(`\t${words(l.words)}`);
    }
  }
  return out;
}

function words(ws: string[]): string {
  for (const w of ws) {
    if (!BARE.test(w) && !QUOTED.test(w)) throw new Error(`internal: haproxy word ${JSON.stringify(w)} is neither bare nor quote()d`);
  }
  return ws.join(' ');
}
