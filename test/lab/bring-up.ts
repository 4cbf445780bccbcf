// How every lab test file brings its lab up: a crashed run's lab taken down first, then `up`
// from the model directory `lab status` will reload, and a wait until every site is ready.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { labDown } from '../../lib/lab/down.ts';
import { planLab } from '../../lib/lab/plan.ts';
import { waitReady } from '../../lib/lab/status.ts';
import { labUp, type UpOptions } from '../../lib/lab/up.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { shippedTexts } from '../helpers/topology.ts';

const READY_MS = 45_000;

/** Up from `sitesDir` (whose model is `t`), failing the test with the reasons if it is not ready in 45 s. */
export async function labUpReady(t: Topology, sitesDir: string, opts: UpOptions = {}): Promise<void> {
  await labDown(); // a previous crashed run must not block this one
  await labUp(t, sitesDir, () => {}, opts);
  const ready = await waitReady(t, planLab(t), READY_MS);
  expect(ready.ready ? [] : ready.reasons, `lab did not become ready within ${READY_MS / 1000} s`).toEqual([]);
}

/**
 * The shipped sites with `edit` applied, written to a fresh directory (`lab status` reloads the
 * model from the directory `up` was given, so it must be the edited one), and the lab up from it.
 * Returns the directory, for the caller to remove.
 */
export async function labUpEdited(t: Topology, name: string, edit: (texts: Record<string, string>) => void, opts: UpOptions = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `anycdn-lab-${name}-`));
  const texts = shippedTexts();
  edit(texts);
  for (const [file, text] of Object.entries(texts)) writeFileSync(join(dir, file.replace(/^sites\//, '')), text);
  await labUpReady(t, dir, opts);
  return dir;
}
