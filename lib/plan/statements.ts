// Config files as lists of statements, each with the blocks it sits in, so a change is classified
// by the statements it touches rather than by the file's name. One small reader per dialect
// family: brace blocks (bird, nginx, keepalived), sections of indented lines (haproxy, Knot's
// YAML), flat directives (squid). Comments are dropped; whitespace is collapsed.

export interface Statement {
  /** Enclosing block headers, outermost first ("protocol bgp bgp_transit1 from upstream", "ipv4"). */
  block: string[];
  /** The statement, without its terminator ("neighbor 198.51.100.1 as 64501"). */
  text: string;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * Brace dialects. `;` ends a statement; with `newlineEnds` (keepalived) so does a newline. `#`
 * starts a comment outside double quotes.
 */
export function braceStatements(text: string, newlineEnds: boolean): Statement[] {
  const out: Statement[] = [];
  const block: string[] = [];
  let cur = '';
  let quoted = false;
  const flush = () => {
    const s = squash(cur);
    if (s) out.push({ block: [...block], text: s });
    cur = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      cur += c;
      if (c === '"') quoted = false;
    } else if (c === '"') {
      cur += c;
      quoted = true;
    } else if (c === '#') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '{') {
      block.push(squash(cur));
      cur = '';
    } else if (c === '}') {
      flush();
      block.pop();
    } else if (c === ';' || (c === '\n' && newlineEnds)) {
      flush();
    } else {
      cur += c;
    }
  }
  flush();
  return out;
}

/**
 * Sections of indented lines: a line at column 0 opens a section (haproxy's `global`, `frontend x`;
 * Knot's YAML `server:`, whose colon is dropped), every indented line is a statement in it.
 */
export function sectionStatements(text: string): Statement[] {
  const out: Statement[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '');
    if (!line.trim()) continue;
    if (/^\S/.test(line)) section = squash(line).replace(/:$/, '');
    else out.push({ block: [section], text: squash(line) });
  }
  return out;
}

/** squid: one directive per line. */
export function lineStatements(text: string): Statement[] {
  return text
    .split('\n')
    .map((l) => squash(l.replace(/(^|\s)#.*$/, '')))
    .filter(Boolean)
    .map((t) => ({ block: [], text: t }));
}

export interface StatementDiff {
  removed: Statement[];
  added: Statement[];
}

const keyOf = (s: Statement) => `${s.block.join('\u0000')}\u0001${s.text}`;

/** The statements only in `before` and only in `after`, counted as multisets, in file order. */
export function diffStatements(before: Statement[], after: Statement[]): StatementDiff {
  const count = new Map<string, number>();
  for (const s of after) count.set(keyOf(s), (count.get(keyOf(s)) ?? 0) + 1);
  const removed: Statement[] = [];
  for (const s of before) {
    const n = count.get(keyOf(s)) ?? 0;
    if (n > 0) count.set(keyOf(s), n - 1);
    else removed.push(s);
  }
  const left = new Map<string, number>();
  for (const s of before) left.set(keyOf(s), (left.get(keyOf(s)) ?? 0) + 1);
  const added: Statement[] = [];
  for (const s of after) {
    const n = left.get(keyOf(s)) ?? 0;
    if (n > 0) left.set(keyOf(s), n - 1);
    else added.push(s);
  }
  return { removed, added };
}

/** "text (in block > block)" for a reason line. */
export function describe(s: Statement): string {
  return s.block.length ? `${s.text} (in ${s.block.join(' > ')})` : s.text;
}
