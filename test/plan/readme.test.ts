// The worked plan example (docs/rollout.md) is the output of a real run, not prose that can drift,
// and the impact class table (docs/impact-classes.md) is lib/plan/impact.ts's.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CLASSES_DOC, ROLLOUT, planExample, withClasses, withExample } from './readme-example.ts';

it('docs/rollout.md shows exactly what `anycdn plan` prints for its example edit (regenerate: npx tsx test/plan/readme-example.ts)', { timeout: 300_000 }, async () => {
  const doc = readFileSync(ROLLOUT, 'utf8');
  expect(doc).toBe(withExample(doc, await planExample()));
});

it('docs/impact-classes.md shows the impact classes of lib/plan/impact.ts (regenerate: npx tsx test/plan/readme-example.ts)', () => {
  const doc = readFileSync(CLASSES_DOC, 'utf8');
  expect(doc).toBe(withClasses(doc));
});
