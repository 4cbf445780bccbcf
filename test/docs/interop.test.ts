// docs/upstream-interop.md's FRR column is what the lab's FRR upstream runs: every command it
// names (X and Y a neighbour, S a password) is in the bgpd.conf and bfdd.conf the lab writes for
// ams's router (lib/lab/router-frr.ts), which test/lab/bfd.test.ts runs against bird.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planLab } from '../../lib/lab/plan.ts';
import { routerBfddConf, routerBgpdConf } from '../../lib/lab/router-frr.ts';
import { loadEdited } from '../helpers/topology.ts';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'upstream-interop.md'), 'utf8');

/** The cells of one column of the doc's table, by its header. */
function column(header: string): string[] {
  const rows = DOC.split('\n').filter((l) => l.startsWith('| '));
  const cells = (row: string) => row.slice(2, -2).split(' | ');
  const at = cells(rows[0]!).indexOf(header);
  if (at < 0) throw new Error(`no column ${header} in docs/upstream-interop.md`);
  return rows.slice(2).map((r) => cells(r)[at]!);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('docs/upstream-interop.md', () => {
  it('names in its FRR column only commands the lab\'s FRR upstream is configured with', () => {
    const t = loadEdited();
    const plan = planLab(t);
    const router = plan.routers.find((r) => r.site === 'ams')!;
    const conf = `${routerBgpdConf(t, plan, router)}${routerBfddConf(t, router)}`;
    const snippets = column('FRR').flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    expect(snippets.length, 'the FRR column names commands').toBeGreaterThanOrEqual(8);
    const missing = snippets.filter((s) => !new RegExp(escape(s).replace(/\b[XYS]\b/g, '\\S+')).test(conf));
    expect(missing).toEqual([]);
  });

  it('has a cell for each implementation in each row', () => {
    for (const impl of ['FRR', 'BIRD 2', 'Junos', 'IOS-XR']) expect(column(impl).every((c) => c.trim().length > 0), impl).toBe(true);
  });
});
