// The HostPlan is the one road (DESIGN.md): an adapter reads render/index.ts, the types of
// render/types.ts and the dialects of render/syntax/ (emitters and quoting, which the lab's routers
// and the checkers' shell lines use too), never a daemon's renderer, the catalog or a constant
// inside one. And no import runs back up: the model reads only the model, render only the model
// and itself. Imports are read with the TypeScript compiler's parser (every import and export
// declaration, `import()` calls and `import('…')` types), not by matching text.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** The folders whose modules are adapters of the HostPlan (lib/apply is the apply command's). */
const ADAPTERS = ['lib/cdk', 'lib/pulumi', 'lib/cloud', 'lib/plan', 'lib/lab', 'lib/check', 'lib/drain', 'lib/cli', 'lib/apply', 'lib/graph'];

/** What an adapter may import of render. */
const ROAD = (target: string) => target === 'lib/render/index.ts' || target === 'lib/render/types.ts' || target.startsWith('lib/render/syntax/');

/** Each floor and what it may import of lib/ (anything outside lib/, such as node: and npm packages, is free). */
const FLOORS: [floor: string, allowed: string[]][] = [
  ['lib/model/', ['lib/model/']],
  ['lib/render/', ['lib/model/', 'lib/render/', 'lib/package-root.ts']],
];

interface Import {
  from: string;
  to: string;
  line: number;
}

/** Every module a source file imports or re-exports, resolved to a path from the repository root (relative specifiers only). */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (spec: ts.Node | undefined) => {
    if (!spec || !ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    const to = posix.normalize(posix.join(posix.dirname(file), spec.text));
    out.push({ from: file, to, line: source.getLineAndCharacterOfPosition(spec.getStart(source)).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Adapter imports that leave the road, as `file:line: imports target` lines. */
function offRoad(imports: Import[]): string[] {
  return imports
    .filter((i) => ADAPTERS.some((a) => i.from.startsWith(`${a}/`)) && i.to.startsWith('lib/render/') && !ROAD(i.to))
    .map((i) => `${i.from}:${i.line}: imports ${i.to}; import it through lib/render/index.ts`);
}

/** Imports that run back up from a floor, as `file:line: imports target` lines. */
function upward(imports: Import[]): string[] {
  return imports.flatMap((i) => {
    const floor = FLOORS.find(([f]) => i.from.startsWith(f));
    if (!floor || !i.to.startsWith('lib/') || floor[1].some((a) => i.to === a || (a.endsWith('/') && i.to.startsWith(a)))) return [];
    return [`${i.from}:${i.line}: imports ${i.to}, above ${floor[0]}`];
  });
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

const all = sources('lib').flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')));

describe('the HostPlan is the one road', () => {
  it('reads imports from every adapter folder there is', () => {
    const seen = new Set(all.map((i) => dirname(i.from)));
    for (const a of ADAPTERS.filter((x) => x !== 'lib/apply')) expect(seen.has(a), a).toBe(true);
    expect(all.filter((i) => i.to === 'lib/render/index.ts').length).toBeGreaterThan(20);
  });

  it('no adapter imports a renderer, the catalog or a constant of one: only render/index.ts, its types and the dialects', () => {
    expect(offRoad(all)).toEqual([]);
  });

  it('no import runs back up: the model reads the model, render the model and itself', () => {
    expect(upward(all)).toEqual([]);
  });

  it('finds each kind of import off the road, and up (the checks can fail)', () => {
    const text = [
      "import { BACKEND } from '../render/haproxy.ts';",
      "import type { DirNeed } from '../render/catalog.ts';",
      "export { PATHS } from '../render/paths.ts';",
      "const knot = await import('../render/knot.ts');",
      "type E = import('../render/endpoints.ts').Endpoint;",
      "import { renderPlans } from '../render/index.ts';",
      "import type { RenderedFile } from '../render/types.ts';",
      "import { shQuote } from '../render/syntax/shell.ts';",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    expect(offRoad(importsOf('lib/drain/x.ts', text))).toEqual([
      'lib/drain/x.ts:1: imports lib/render/haproxy.ts; import it through lib/render/index.ts',
      'lib/drain/x.ts:2: imports lib/render/catalog.ts; import it through lib/render/index.ts',
      'lib/drain/x.ts:3: imports lib/render/paths.ts; import it through lib/render/index.ts',
      'lib/drain/x.ts:4: imports lib/render/knot.ts; import it through lib/render/index.ts',
      'lib/drain/x.ts:5: imports lib/render/endpoints.ts; import it through lib/render/index.ts',
    ]);
    // The same imports from inside render are its own business.
    expect(offRoad(importsOf('lib/render/x.ts', text.replaceAll('../render/', './')))).toEqual([]);
    expect(upward(importsOf('lib/model/rules/x.ts', "import { EXPORTER_PORTS } from '../../monitoring/ports.ts';\nimport { hasRole } from '../facts.ts';"))).toEqual([
      'lib/model/rules/x.ts:1: imports lib/monitoring/ports.ts, above lib/model/',
    ]);
    expect(upward(importsOf('lib/render/x.ts', "import { cloudShape } from '../cloud/shape.ts';\nimport { PACKAGE_ROOT } from '../package-root.ts';"))).toEqual([
      'lib/render/x.ts:1: imports lib/cloud/shape.ts, above lib/render/',
    ]);
  });
});
