// PromQL, as the alert rules write it: the one place a value from the model becomes a string
// literal (a label value), and the one place a list of values becomes a regex matcher. Metric
// names, label names and operators are syntax written in the renderers, never model values.

/** A PromQL string literal: double-quoted, with `\` and `"` escaped; control characters refused. */
export function str(s: string): string {
  if (/[\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: PromQL cannot carry ${JSON.stringify(s)}`);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The RE2 metacharacters: escaped so a value matches only itself. */
const RE2_META = /[\\.+*?()|[\]{}^$]/g;

/**
 * A literal for `=~` that matches exactly one of `values` (Prometheus anchors regex matchers at
 * both ends). Refuses an empty list, which would match only a missing label.
 */
export function anyOf(values: readonly string[]): string {
  if (values.length === 0) throw new Error('internal: a PromQL regex of no values');
  return str([...new Set(values)].map((v) => v.replace(RE2_META, (c) => `\\${c}`)).join('|'));
}
