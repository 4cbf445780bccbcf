// The cdk.json whose context `plan` synthesizes the stacks with: the project's, found from the
// sites directory (the nearest cdk.json at or above it, as the project that holds the model has
// it), else the package's own; never the working directory's, so plan gives the same answer from
// anywhere. Bad context is one FILE:LINE:COL line at the key in that file, naming the fix that
// works for plan (its context comes from this file only: plan has no -c).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Construct } from 'constructs';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Node } from 'yaml';
import { ContextError, CONTEXT, debianAmi } from '../cdk/context.ts';
import { InputError, type Diagnostic } from '../model/errors.ts';
import type { Topology } from '../model/schema.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { isProblem, readInput } from '../model/read-input.ts';
import { findCdkJson } from './cdk-json-path.ts';

export { findCdkJson };

export interface CdkJson {
  /** The file, or where the project's would be when there is none at all. */
  file: string;
  /** Its text ('' when there is none). */
  text: string;
  context: Record<string, unknown>;
}

const MAX_BYTES = 1024 * 1024;

/** cdk.json's context, or InputError at the place in it that is wrong. */
export function readCdkJson(sitesDir: string, packageRoot?: string): CdkJson {
  const file = findCdkJson(sitesDir, packageRoot);
  if (!file) return { file: join(dirname(resolve(sitesDir)), 'cdk.json'), text: '', context: {} };
  const text = readInput(file, { maxBytes: MAX_BYTES });
  const fail = (line: number, col: number, message: string) => new InputError([{ file, line, col, message }]);
  if (isProblem(text)) throw fail(1, 1, `${text.message}; plan reads the CDK context from it: fix it, or pass --no-cloud`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // V8 names the offset ("... in JSON at position 42"); its message may quote the text, so only the position is used.
    const at = /position (\d+)/.exec((e as Error).message);
    const pos = at ? lineCol(text, Number(at[1])) : { line: 1, col: 1 };
    throw fail(pos.line, pos.col, 'is not valid JSON; fix it, or pass --no-cloud');
  }
  const context = (json as { context?: unknown } | null)?.context;
  if (context === undefined) return { file, text, context: {} };
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    const pos = keyPosition({ file, text, context: {} }, ['context']);
    throw fail(pos.line, pos.col, 'context: must be an object of context keys; fix it, or pass --no-cloud');
  }
  return { file, text, context: context as Record<string, unknown> };
}

/**
 * The AMI context of every aws site's region, checked before any synth so every missing region is
 * named at once (synth stops at the first).
 */
export function amiProblems(cdk: CdkJson, topologies: Topology[]): Diagnostic[] {
  const root = contextRoot(cdk.context);
  const sitesOf = new Map<string, string[]>();
  for (const t of topologies)
    for (const s of t.sites) if (s.platform === 'aws' && s.region) sitesOf.set(s.region, [...new Set([...(sitesOf.get(s.region) ?? []), s.id])]);
  const regions = [...sitesOf].sort(([a], [b]) => (a < b ? -1 : 1));
  const about = (sites: string[]) => `aws site${sites.length > 1 ? 's' : ''} ${sites.join(', ')}`;
  // The key missing altogether is one problem, whatever the regions.
  const checked = cdk.context[CONTEXT.debianAmi] === undefined ? regions.slice(0, 1).map(([r]) => [r, regions.flatMap(([, s]) => s)] as const) : regions;
  const out: Diagnostic[] = [];
  for (const [region, sites] of checked) {
    try {
      debianAmi(root, region);
    } catch (e) {
      if (!(e instanceof ContextError)) throw e;
      out.push(contextDiagnostic(cdk, e, about(sites)));
    }
  }
  return out;
}

/** A ContextError of the synth as a line at the key in cdk.json, with the fix that works for plan. */
export function contextDiagnostic(cdk: CdkJson, e: ContextError, about?: string): Diagnostic {
  const pos = keyPosition(cdk, ['context', e.key]);
  const where = cdk.text ? `the "context" of ${cdk.file}` : `${cdk.file} (create it: {"context": {...}})`;
  return {
    file: cdk.file,
    ...pos,
    message: `context ${e.key}${about ? ` (${about})` : ''}: ${e.problem}; plan reads context only from ${where}: set it there, or pass --no-cloud to skip the cloud stacks`,
  };
}

function contextRoot(context: Record<string, unknown>): Construct {
  const root = new Construct(undefined as unknown as Construct, '');
  for (const [k, v] of Object.entries(context)) root.node.setContext(k, v);
  return root;
}

/** The position of the deepest key along `path` that exists in cdk.json (1:1 when none does). */
function keyPosition(cdk: CdkJson, path: string[]): { line: number; col: number } {
  if (!cdk.text) return { line: 1, col: 1 };
  const lines = new LineCounter();
  const doc = parseDocument(cdk.text, { lineCounter: lines, uniqueKeys: false });
  let node = doc.contents as Node | null;
  let offset = 0;
  for (const key of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    if (!pair) break;
    offset = (pair.key as Node).range?.[0] ?? offset;
    node = pair.value as Node | null;
  }
  return lines.linePos(offset);
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before.at(-1)!.length + 1 };
}
