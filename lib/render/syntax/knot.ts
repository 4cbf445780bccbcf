// Knot's configuration dialect (a YAML subset): sections of items, lists of records.
export type KnotValue = string | number | string[];
export type KnotItems = [key: string, value: KnotValue][];
export type KnotSection = { name: string; items: KnotItems } | { name: string; list: KnotItems[] };

/** A Knot string value. The model never hands it `"`, `\` or a newline. */
export function quote(s: string): string {
  if (/["\\\n\r]/.test(s)) throw new Error(`internal: knot cannot quote ${JSON.stringify(s)}`);
  return `"${s}"`;
}

function value(v: KnotValue): string {
  if (Array.isArray(v)) return `[ ${v.join(', ')} ]`;
  return String(v);
}

export function emitKnot(sections: KnotSection[]): string[] {
  const out: string[] = [];
  for (const s of sections) {
    out.push(`${s.name}:`);
    if ('items' in s) {
      for (const [k, v] of s.items) out.push(`    ${k}: ${value(v)}`);
    } else {
      for (const entry of s.list) {
        entry.forEach(([k, v], i) => out.push(`${i === 0 ? '  - ' : '    '}${k}: ${value(v)}`));
      }
    }
    out.push('');
  }
  return out;
}
