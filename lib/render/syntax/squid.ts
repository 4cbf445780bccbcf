// Squid's dialect: one directive per line, words separated by spaces. Squid has no general quoting
// (quoted values need configuration_includes_quoted_values, which changes how every line parses),
// so the one place that handles a value refuses anything that is not a single plain word.

export type SquidLine =
  | { kind: 'directive'; words: string[] }
  | { kind: 'comment'; text: string }
  | { kind: 'blank' };

/** A Squid word: no whitespace, quotes, `#` (a comment), `\` or control characters. */
export function word(s: string | number): string {
  const v = String(s);
  if (v === '' || /[\s"'#\\\x00-\x1f\x7f]/.test(v)) throw new Error(`internal: squid cannot carry ${JSON.stringify(v)}`);
  return v;
}

export const directive = (name: string, ...args: (string | number)[]): SquidLine => ({ kind: 'directive', words: [name, ...args].map(word) });
export const comment = (text: string): SquidLine => ({ kind: 'comment', text });
export const blank: SquidLine = { kind: 'blank' };

export function emitSquid(lines: SquidLine[]): string[] {
  return lines.map((l) => {
    switch (l.kind) {
      case 'directive':
        return l.words.join(' ');
      case 'comment':
        if (/[\n\r]/.test(l.text)) throw new Error('internal: squid comment with a newline');
        return `# ${l.text}`;
      case 'blank':
        return '';
    }
  });
}
