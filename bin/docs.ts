// `npm run docs`: rewrite the generated blocks of the README and docs/ from the code: the setup
// line (the catalog's packages, the checkers' and the test machine's own), the CLI reference
// (the commander parser) and the checkers (lib/check/registry.ts). `docsBlocks()` is what a
// test compares the files with; the model tables are bin/schema.ts's, the plan example
// test/plan/readme-example.ts's. A build script: it lives above every layer it reads.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { CHECKERS, INDEPENDENT } from '../lib/check/registry.ts';
import { cliProgram } from '../lib/cli/main.ts';
import { catalogUnits } from '../lib/render/index.ts';
import type { RenderedFile } from '../lib/render/types.ts';

export const ROOT = join(import.meta.dirname, '..');

/** Packages a checker or unit names that the setup line leaves out, and why. */
export const NOT_INSTALLED: Record<string, string> = {
  dash: 'essential in Debian: /bin/sh is always there',
  mawk: 'essential in Debian: awk is always there',
  nodejs: 'the machine that runs npm already has Node.js 20 or newer (hosts get Debian\'s nodejs)',
  awscli: 'hosts only: they fetch secrets and certificates from AWS; the tests and the lab use placeholders',
};

/** Packages the tests, the lab and the bench need besides the hosts' and the checkers'. */
export const TEST_PACKAGES: Record<string, string> = {
  procps: 'the lab checks sysctls with /usr/sbin/sysctl',
  curl: '`lab status` and the lab tests fetch images through the VIPs',
  'ca-certificates': 'the system CA bundle the lab extends with its throwaway CA',
  wrk: 'the throughput benchmark and the lab load tests',
  frr: 'the lab\'s FRR upstream (test/lab/bfd.test.ts)',
  tcpdump: 'the BFD interop test watches BFD packets',
  pebble: 'the lab\'s ACME server for the certificate tests',
};

/** The Debian packages of the setup line: the catalog's, then the checkers', then the tests'; each once. */
export function setupPackages(): string[] {
  const all = [...catalogUnits().flatMap((u) => u.packages), ...Object.values(CHECKERS).map((c) => c!.debianPackage), ...Object.keys(TEST_PACKAGES)];
  return [...new Set(all)].filter((p) => !(p in NOT_INSTALLED));
}

export function setupBlock(): string {
  return ['```sh', `apt-get update && apt-get install -y --no-install-recommends ${setupPackages().join(' ')} && npm ci`, 'npm test', '```'].join('\n');
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function optionRow(o: Option): string {
  const dflt = o.defaultValue === undefined || o.negate ? '' : `\`${String(o.defaultValue)}\``;
  return `| \`${o.flags}\` | ${cell(o.description)} | ${dflt} |`;
}

function commandSection(c: Command, prefix: string): string[] {
  const name = `${prefix}${c.name()}`;
  const args = c.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' ');
  const subs = c.commands;
  const out = [`### \`anycdn ${name}${args ? ` ${args}` : ''}\``, '', cell(c.description()) + (c.aliases().length ? ` Also \`anycdn ${c.aliases().join('`, `anycdn ')}\`.` : ''), ''];
  if (c.options.length) out.push('| flag | meaning | default |', '| --- | --- | --- |', ...c.options.map(optionRow), '');
  for (const s of subs) out.push(...commandSection(s, `${name} `));
  return out;
}

/** Every command and flag, from the parser itself. */
export function cliBlock(): string {
  const { program } = cliProgram({ out: () => {}, err: () => {} });
  const top = ['| flag | meaning |', '| --- | --- |', ...program.options.map((o) => `| \`${o.flags}\` | ${cell(o.description)} |`), ''];
  return [...top, ...program.commands.flatMap((c) => commandSection(c, ''))].join('\n').trimEnd();
}

/** Every checker: the kind of file, the command (on a placeholder FILE), the Debian package; then the catalog's packages per unit. */
export function checkersBlock(): string {
  const file = { site: 'SITE', host: 'HOST', path: 'FILE', content: '', mode: 0o644, zone: 'ZONE' } as unknown as RenderedFile;
  const rows = Object.entries(CHECKERS).map(([kind, c]) => {
    const also = INDEPENDENT[kind as keyof typeof INDEPENDENT];
    const command = c!.command(file);
    const shown = command.length > 160 ? `${c!.binary} …` : command; // the sysctl check is an awk program
    return `| \`${kind}\` | \`${cell(shown)}\` | \`${c!.debianPackage}\` | ${also ? also.map((k) => `\`${k}\``).join(', ') : ''} |`;
  });
  const units = catalogUnits().map((u) => `| \`${u.unit}\` | ${u.role ?? 'every host'} | ${u.packages.map((p) => `\`${p}\``).join(' ')} |`);
  return [
    '| kind of file | command | Debian package | also checked by |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    'The packages each rendered unit needs on its host (lib/render/catalog.ts):',
    '',
    '| unit | role | Debian packages |',
    '| --- | --- | --- |',
    ...units,
  ].join('\n');
}

/** Each generated block: the file it lives in, its marker name, and its text. */
export function docsBlocks(): { file: string; name: string; text: string }[] {
  return [
    { file: 'README.md', name: 'setup', text: setupBlock() },
    { file: 'docs/cli.md', name: 'cli reference', text: cliBlock() },
    { file: 'docs/checkers.md', name: 'checkers', text: checkersBlock() },
  ];
}

/** `doc` with the block `name` replaced by `text`; the markers must be there. */
export function replaceBlock(doc: string, file: string, name: string, text: string): string {
  const begin = doc.indexOf(`<!-- BEGIN generated: ${name} `);
  const end = doc.indexOf(`<!-- END generated: ${name} -->`);
  if (begin < 0 || end < begin) throw new Error(`${file} has no <!-- BEGIN generated: ${name} ... --> ... <!-- END generated: ${name} --> markers`);
  const afterBegin = doc.indexOf('\n', begin) + 1;
  return `${doc.slice(0, afterBegin)}${text}\n${doc.slice(end)}`;
}

/** Each file with generated blocks, as it should be. */
export function regenerated(read: (file: string) => string = (f) => readFileSync(join(ROOT, f), 'utf8')): Map<string, { before: string; after: string }> {
  const out = new Map<string, { before: string; after: string }>();
  for (const b of docsBlocks()) {
    const cur = out.get(b.file) ?? { before: read(b.file), after: read(b.file) };
    cur.after = replaceBlock(cur.after, b.file, b.name, b.text);
    out.set(b.file, cur);
  }
  return out;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  for (const [file, { before, after }] of regenerated()) {
    if (after !== before) writeFileSync(join(ROOT, file), after);
    console.log(after === before ? `${file} is current` : `wrote ${file}`);
  }
}
