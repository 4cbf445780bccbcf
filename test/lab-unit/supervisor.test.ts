// The file limit the lab's unit supervisor (lib/lab/daemons.ts) gives a daemon: its LimitNOFILE=
// where this machine lets it, else the most it grants, and an exit with a line when that is less
// than the daemon cannot start without. The supervisor's own sh runs here, with no namespace and
// nothing left behind: its one command prints the limits it was given.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { supervisorScript } from '../../lib/lab/daemons.ts';
import { fileLimitFacts, nofileCeiling } from '../../lib/lab/preflight.ts';
import type { LabUnit } from '../../lib/lab/units.ts';
import { run } from '../../lib/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'anycdn-supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function unit(limitNofile: [number, number], minNofile?: number): LabUnit {
  return {
    name: 'probe',
    after: [],
    type: 'oneshot',
    execStartPre: [],
    execStart: [['sh', '-c', 'echo "$(ulimit -S -n) $(ulimit -H -n)"']],
    execStopPost: [],
    runtimeDirs: [],
    stateDirs: [],
    limitNofile,
    ...(minNofile !== undefined ? { minNofile } : {}),
    ambientCaps: [],
  };
}

const supervise = (u: LabUnit) => run('sh', ['-c', supervisorScript(u, join(dir, `${u.name}.pid`))], { timeoutMs: 10_000 });

describe('the supervisor gives LimitNOFILE=', () => {
  it('exactly, where the machine can (here below its hard limit)', async () => {
    const r = await supervise(unit([1024, 4096]));
    expect([r.code, r.stdout.trim()]).toEqual([0, '1024 4096']);
  });

  it('up to what the machine grants when the unit asks more: fs.nr_open with CAP_SYS_RESOURCE, else its own hard limit', async () => {
    const facts = fileLimitFacts();
    const ask = facts.nrOpen + 1; // more than any machine gives
    const r = await supervise(unit([ask, ask]));
    const given = Math.min(ask, nofileCeiling(facts));
    expect([r.code, r.stdout.trim()]).toEqual([0, `${given} ${given}`]);
  });

  it('and refuses to start a daemon with less than it cannot start without, saying so', async () => {
    const r = await supervise(unit([1024, 4096], 5000));
    expect([r.code, r.stdout.trim(), r.stderr.trim()]).toEqual([1, '', 'lab: probe needs 5000 open files, this machine gives 4096']);
  });
});
