// Turns zod issues into diagnostics that name the field, show the bad value and say the fix.
import type { z } from 'zod';
import { pathString, show, type Diagnostic } from './errors.ts';

type Locate = (path: readonly PropertyKey[], atKey?: boolean) => { file: string; line: number; col: number };
type Issue = z.core.$ZodIssue;

export function describeIssue(issue: Issue, root: unknown, schema: z.ZodType, locate: Locate): Diagnostic[] {
  const path = issue.path as PropertyKey[];
  const value = valueAt(root, path);
  if (issue.code === 'unrecognized_keys') {
    const allowed = keysAt(schema, path);
    return issue.keys.map((key) => ({
      ...locate([...path, key], true),
      message: `${pathString([...path, key])}: unknown key${suggest(key, allowed)}; allowed here: ${allowed.join(', ')}`,
    }));
  }
  if (issue.code === 'invalid_key') {
    // A record key (a subnet name, a status in cache.validSec) that breaks the key schema: show
    // the key, not the value it holds.
    const key = path[path.length - 1];
    const inner = issue.issues[0];
    const rule = inner && !/^(Invalid|Too (small|big))/.test(inner.message) ? inner.message : 'is not an allowed key here';
    return [{ ...locate(path, true), message: `${pathString(path)}: key ${rule}, got ${show(String(key))}` }];
  }
  if (issue.code === 'invalid_union') {
    // Report the branch the user most likely meant: the one whose problems lie deepest.
    const branches = issue.errors.filter((b) => b.length > 0);
    const best = branches.sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
    // A branch that only misses its own key (origin: {} lacks s3) says nothing about intent.
    const onlyMissingKey = (b: readonly { path: readonly PropertyKey[] }[]) =>
      b.every((i) => i.path.length === 1 && valueAt(value, i.path) === undefined);
    if (best && depth(best) > path.length && !onlyMissingKey(best)) {
      return best.flatMap((sub) => describeIssue({ ...sub, path: [...path, ...sub.path] } as Issue, root, schema, locate));
    }
    // A list given where one form is a list (origin: [...]): its own problems (too many entries),
    // not the hint about the forms.
    const listBranch = Array.isArray(value) ? branches.find((b) => b.every((i) => i.path.length === 0 && (i.code === 'too_big' || i.code === 'too_small'))) : undefined;
    if (listBranch) return listBranch.flatMap((sub) => describeIssue({ ...sub, path: [...path] } as Issue, root, schema, locate));
    if (value === undefined) return [{ ...locate(path), message: `${pathString(path)}: is required; it ${unionHint(path)}` }];
    return [{ ...locate(path), message: `${pathString(path)}: ${unionHint(path)}, got ${show(value)}` }];
  }
  return [{ ...locate(path), message: `${pathString(path)}: ${messageFor(issue, value)}` }];
}

function messageFor(issue: Issue, value: unknown): string {
  // A refinement that shows the value and the fix itself (paths.ts).
  if (issue.code === 'custom' && issue.params?.complete === true) return issue.message;
  const generic = /^(Invalid|Too (small|big))/.test(issue.message);
  if (value === undefined) {
    if (issue.code === 'invalid_type') return `is required (${article(issue.expected)})`;
    if (issue.code === 'invalid_value') return `is required: one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (!generic) return `${issue.message}, got ${show(value)}`;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${article(issue.expected)}, got ${show(value)}`;
    case 'too_small':
      return bound(issue.origin, 'at least', issue.minimum, value);
    case 'too_big':
      return bound(issue.origin, 'at most', issue.maximum, value);
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(value)}`;
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue
        ? `must match the pattern ${String(issue.pattern)}, got ${show(value)}`
        : `must be ${issue.format}, got ${show(value)}`;
    default:
      return `${issue.message.toLowerCase()}, got ${show(value)}`;
  }
}

/**
 * The issues worth showing. z.int() adds the safe-integer range to every integer field; ours have
 * their own, smaller ranges, which zod reports too, and both would say "at most 86400" and "at
 * most 9007199254740991". The safe-integer issue stays only when nothing else covers its path.
 */
export function relevantIssues(issues: readonly Issue[]): Issue[] {
  const key = (i: Issue) => JSON.stringify(i.path);
  const covered = new Set(issues.filter((i) => !isSafeIntBound(i)).map(key));
  return issues.filter((i) => !isSafeIntBound(i) || !covered.has(key(i)));
}

function isSafeIntBound(issue: Issue): boolean {
  if (issue.code !== 'too_big' && issue.code !== 'too_small') return false;
  const bound = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
  return issue.origin === 'int' && (bound === Number.MAX_SAFE_INTEGER || bound === Number.MIN_SAFE_INTEGER);
}

function article(t: string): string {
  if (t === 'object' || t === 'record') return 'a mapping';
  if (t === 'array') return 'a list';
  if (t === 'int') return 'a whole number';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** A size or value bound: arrays count items, strings characters, numbers themselves. */
function bound(origin: string, which: 'at least' | 'at most', limit: number | bigint, value: unknown): string {
  if (origin === 'array') return `${which === 'at least' ? 'needs' : 'takes'} ${which} ${limit} item(s), got ${Array.isArray(value) ? value.length : 0}`;
  if (origin === 'string') return `must be ${which} ${limit} characters, got ${show(value)}`;
  return `must be ${which} ${limit}, got ${show(value)}`;
}

function unionHint(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (last === 'origin') return 'must hold exactly one of s3: {bucket, region} or http: {url}, or a list of them in priority order';
  if (typeof last === 'number' && path[path.length - 2] === 'origin') return 'must hold exactly one of s3: {bucket, region} or http: {url}';
  if (last === 'preempt') return 'must be false (nopreempt) or {delaySec: N}';
  if (last === 'bfd') return 'must be true, false or {intervalMs: N, multiplier: N}';
  return 'does not match any allowed form';
}

function depth(issues: readonly { path: readonly PropertyKey[]; code: string }[]): number {
  return Math.max(...issues.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 0 : 0.5)));
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return v;
}

/** The keys an object schema allows at `path`, for "unknown key" hints. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const steps = [...path];
  for (;;) {
    s = unwrap(s);
    const def = (s as { def?: Record<string, unknown> }).def;
    if (!def) return [];
    if (steps.length === 0) {
      if (def.type === 'object') return Object.keys(def.shape as object).sort();
      return [];
    }
    const step = steps.shift()!;
    if (def.type === 'object') s = (def.shape as Record<string, unknown>)[step as string];
    else if (def.type === 'array') s = def.element;
    else if (def.type === 'record') s = def.valueType;
    else if (def.type === 'union') {
      // A union of unions (origin: one entry, or a list of them) is one flat set of forms.
      const flat = (os: unknown[]): unknown[] =>
        os.map(unwrap).flatMap((o) => ((o as { def?: { type?: string; options?: unknown[] } }).def?.type === 'union' ? flat((o as { def: { options: unknown[] } }).def.options) : [o]));
      const options = flat(def.options as unknown[]);
      if (typeof step === 'number') {
        const list = options.find((o) => (o as { def?: { type?: string } }).def?.type === 'array');
        if (!list) return [];
        s = (list as { def: { element: unknown } }).def.element;
        continue;
      }
      const withKey = options.find((o) => {
        const d = (o as { def?: { type?: string; shape?: object } }).def;
        return d?.type === 'object' && d.shape && (step as string) in d.shape;
      });
      if (!withKey) return [];
      s = ((withKey as { def: { shape: Record<string, unknown> } }).def.shape)[step as string];
    } else return [];
  }
}

function unwrap(s: unknown): unknown {
  for (;;) {
    const def = (s as { def?: { type?: string; innerType?: unknown; in?: unknown } }).def;
    if (!def) return s;
    if (def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault') s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else return s;
  }
}

function suggest(key: string, allowed: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = key.toLowerCase();
  for (const a of allowed) {
    // A key that starts an allowed one is a near miss too: password -> passwordRef.
    const prefix = key.length >= 4 && a.toLowerCase().startsWith(lower);
    // The distance is at least the difference in length: skip what cannot come closer.
    if (!prefix && Math.abs(a.length - key.length) >= bestDistance) continue;
    const d = prefix ? 1 : distance(lower, a.toLowerCase());
    if (d < bestDistance) {
      best = a;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
