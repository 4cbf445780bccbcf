// The README's worked `anycdn plan` example, from a real run: the shipped model rendered to out/,
// one peer's ASN changed at ams, then `anycdn plan`. readme.test.ts holds the README to it;
// `npx tsx test/plan/readme-example.ts` rewrites the README's block after a deliberate change.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.ts';
import { assumedVersion, IMPACT_CLASSES, IMPACTS } from '../../lib/plan/impact.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const README = join(ROOT, 'README.md');
const EXAMPLE = ['<!-- BEGIN generated: plan example (npx tsx test/plan/readme-example.ts) -->', '<!-- END generated: plan example -->'] as const;
const CLASSES = ['<!-- BEGIN generated: plan impact classes (npx tsx test/plan/readme-example.ts) -->', '<!-- END generated: plan impact classes -->'] as const;

/** The impact classes as a table, from lib/plan/impact.ts, least disruptive first. */
export function classTable(): string {
  const rows = [...IMPACT_CLASSES]
    .sort((a, b) => IMPACTS[a].rank - IMPACTS[b].rank)
    .map((c) => `| \`${c}\` | ${IMPACTS[c].rank} | ${IMPACTS[c].effect.replaceAll('|', '\\|')} | ${IMPACTS[c].drainFirst ? 'yes' : 'no'} | ${assumedVersion(c) ?? ''} |`);
  return ['| class | rank | what applying it does | drain first | assumes |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export async function planExample(): Promise<string> {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-readme-'));
  try {
    cpSync(join(ROOT, 'sites'), join(d, 'sites'), { recursive: true });
    const quiet = { out: () => {}, err: () => {} };
    if ((await main(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')], quiet)) !== 0) throw new Error('render failed');
    const ams = join(d, 'sites', 'ams.yaml');
    writeFileSync(ams, readFileSync(ams, 'utf8').replace('address: 198.51.100.1\n      asn: 64501', 'address: 198.51.100.1\n      asn: 64599'));
    const out: string[] = [];
    const code = await main(['plan', '--sites', join(d, 'sites'), '--out', join(d, 'out'), '--exit-code'], { out: (l) => out.push(l), err: (l) => out.push(l) });
    const text = out.join('\n').replaceAll(join(d, 'out'), 'out');
    return `\`\`\`console\n$ npx anycdn plan --exit-code\n${text}\n$ echo $?\n${code}\n\`\`\``;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

function replaceBlock(readme: string, [begin, end]: readonly [string, string], body: string): string {
  const a = readme.indexOf(begin);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${begin} ... ${end} block`);
  return `${readme.slice(0, a + begin.length)}\n${body}\n${readme.slice(b)}`;
}

/** The README with its generated plan blocks replaced: the class table and `example`. */
export function withExample(readme: string, example: string): string {
  return replaceBlock(replaceBlock(readme, CLASSES, classTable()), EXAMPLE, example);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(README, withExample(readFileSync(README, 'utf8'), await planExample()));
  console.log('wrote the plan example in README.md');
}
