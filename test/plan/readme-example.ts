// The worked `anycdn plan` example in docs/rollout.md, from a real run: the shipped model rendered
// to out/, one peer's ASN changed at ams, then `anycdn plan`; and the impact class table in
// docs/impact-classes.md. readme.test.ts holds both files to them;
// `npx tsx test/plan/readme-example.ts` rewrites the blocks after a deliberate change.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.ts';
import { assumedVersion, IMPACT_CLASSES, IMPACTS } from '../../lib/plan/impact.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const ROLLOUT = join(ROOT, 'docs', 'rollout.md');
export const CLASSES_DOC = join(ROOT, 'docs', 'impact-classes.md');
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

function replaceBlock(doc: string, [begin, end]: readonly [string, string], body: string, name: string): string {
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${name} has no ${begin} ... ${end} block`);
  return `${doc.slice(0, a + begin.length)}\n${body}\n${doc.slice(b)}`;
}

/** docs/rollout.md with its generated plan example replaced by `example`. */
export function withExample(rollout: string, example: string): string {
  return replaceBlock(rollout, EXAMPLE, example, 'docs/rollout.md');
}

/** docs/impact-classes.md with its generated class table replaced. */
export function withClasses(doc: string): string {
  return replaceBlock(doc, CLASSES, classTable(), 'docs/impact-classes.md');
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(ROLLOUT, withExample(readFileSync(ROLLOUT, 'utf8'), await planExample()));
  writeFileSync(CLASSES_DOC, withClasses(readFileSync(CLASSES_DOC, 'utf8')));
  console.log('wrote the plan example in docs/rollout.md and the class table in docs/impact-classes.md');
}
