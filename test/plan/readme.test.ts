// The README's worked plan example is the output of a real run, not prose that can drift.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { README, planExample, withExample } from './readme-example.ts';

it('the README shows exactly what `anycdn plan` prints for its example edit (regenerate: npx tsx test/plan/readme-example.ts)', { timeout: 300_000 }, async () => {
  const readme = readFileSync(README, 'utf8');
  expect(readme).toBe(withExample(readme, await planExample()));
});
