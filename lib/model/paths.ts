// Paths in the model, one rule for all of them: a path is normal when it holds no `.` or `..`
// segment, no `//` and no trailing `/`, so it names exactly the file or directory it reads as.
// `cache.nginx.path: /var/cache/../../etc` once passed, and validate chowned the machine's /etc
// (issue 24). A path that is not normal is refused with the normal form it stands for, so the
// user sees where it really points.
import { posix } from 'node:path';
import * as z from 'zod';

/** What is wrong with `path`, and the normal path it stands for; undefined when it is normal. */
export function pathProblem(path: string): { problems: string[]; normal: string } | undefined {
  const segments = path.split('/');
  const problems: string[] = [];
  if (segments.includes('..')) problems.push('a .. segment');
  if (segments.includes('.')) problems.push('a . segment');
  if (path.includes('//')) problems.push('//');
  if (path.length > 1 && path.endsWith('/')) problems.push('a trailing /');
  if (problems.length === 0) return undefined;
  const normal = posix.normalize(path);
  return { problems, normal: normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal };
}

/**
 * The message for a path that is not normal; `prefix` is what precedes the path in the value
 * (file:). Only values of the field's shape get here, at most a few hundred safe characters, so
 * both are shown whole: a cut path would be no fix.
 */
export function pathMessage(value: string, problem: { problems: string[]; normal: string }, prefix = ''): string {
  return `${JSON.stringify(value)} is not a normal path (${problem.problems.join(', ')}); write it as ${JSON.stringify(prefix + problem.normal)}`;
}

/** For the published JSON Schema: what pathProblem refuses, so editors flag it too. */
const NOT_NORMAL = '(^|/)\\.\\.?(/|$)|//|./$';

/**
 * An absolute path field: `/` then at most `max` characters of `chars` (the rule says so in
 * `rule`), and normal. Every path field of the model is one of these.
 */
export function absolutePath(o: { chars: string; max: number; min?: number; rule: string }) {
  const shape = new RegExp(`^\\/[${o.chars}]{${o.min ?? 1},${o.max}}$`);
  return z
    .string()
    .regex(shape, { message: o.rule })
    .superRefine((value, ctx) => {
      // A value of the wrong shape gets the shape's message only.
      if (!shape.test(value)) return;
      const problem = pathProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: pathMessage(value, problem), params: { complete: true } });
    })
    .meta({ not: { pattern: NOT_NORMAL } });
}

/** Letters, digits and . _ / -: what a file path in the model may hold. */
export const FILE_PATH_CHARS = 'A-Za-z0-9._\\/-';
