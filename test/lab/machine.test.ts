// Issue 24: a root tool never harms the machine it runs on. `validate` and a lab of a model with
// its caches on big disks this machine does not have (Squid at /srv/cache, nginx at /data/cache)
// must leave the machine exactly as they found it: a snapshot of /etc, /usr, /var, /srv, /tmp,
// /home and of `/` itself (type, owner, mode, mtime to the nanosecond, and size of every file;
// test/helpers/snapshot.ts) is taken before and after, and must be identical. Between the two, traffic
// goes through both caches, so they really write, inside their host views.
//
// The test runs in a mount namespace of its own whose /tmp is a fresh tmpfs: once at mode 1777,
// once at 0755, as on the machine where issue 24 found Knot's conf-check failing in every lab.
// A private /tmp, because the machine's own is written all the time by whatever else runs there;
// it stands for the machine's, since every process of validate and of the lab starts in this
// namespace, so anything one of them writes to /tmp lands in it and shows.
//
// What the snapshot leaves out, and why: the entries of /proc, /sys and /dev (kernel filesystems)
// and of /run (the lab's namespaces and state live there by design; the test checks they are gone
// after `lab down`) are kept with their owner and mode only; so is this checkout, when it lies in
// a walked tree (on CI, under /home), where vitest and the build write; and so is the home of the
// user who runs the test (/root), where that user's other sessions write (shell history, tool
// caches): the driver and all it runs get a home of their own in the private /tmp, which the
// snapshot walks, so whatever validate or the lab writes to a home shows there. Anything else another
// session changes meanwhile (an apt-get install) would show, named by path. Run it under the lab
// lock: flock -w 5400 /var/lock/anycdn-lab.lock npx vitest run --config vitest.lab.config.ts test/lab/machine.test.ts
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown } from '../../lib/lab/down.ts';
import { run } from '../../lib/run.ts';
import { missingLabDaemon, missingRoot } from '../helpers/daemons.ts';

const skip = missingRoot() ?? missingLabDaemon();
const DRIVER = join(import.meta.dirname, 'machine-driver.ts');
/** The home of the driver and of everything it runs: in the private /tmp, which the snapshot walks. */
const HOME = '/tmp/anycdn-machine-test-home';

/** The driver's report, in the namespace whose /tmp is a fresh tmpfs of `mode`. */
async function driven(mode: string): Promise<Record<string, unknown>> {
  await labDown(); // a crashed run's lab must not block this one
  const r = await run(
    '/usr/bin/unshare',
    [
      '--mount', '--propagation', 'private', '/bin/sh', '-c',
      `mount -t tmpfs -o mode=${mode},nosuid,nodev anycdn-test-tmp /tmp && mkdir -m 0700 ${HOME} && exec env -u XDG_CACHE_HOME -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME HOME=${HOME} TSX_DISABLE_CACHE=1 "$0" --import tsx "$1" "$2" "$3"`,
      process.execPath, DRIVER, mode, homedir(),
    ],
    { timeoutMs: 500_000 },
  );
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !last.startsWith('{')) throw new Error(`the driver failed (exit ${r.code}): ${r.stderr.slice(-3000)}${r.stdout.slice(-3000)}`);
  return JSON.parse(last) as Record<string, unknown>;
}

describe.skipIf(skip)('the machine after validate and a lab, caches at /srv/cache and /data/cache', () => {
  afterAll(async () => {
    await labDown();
  });

  for (const mode of ['1777', '0755']) {
    it(`is exactly as before, with /tmp at ${mode}`, async () => {
      const r = await driven(mode);
      expect(r.tmpMode).toBe(mode);
      expect(r.steps).toMatchObject([
        { args: expect.stringMatching(/^validate /), code: 0 },
        { args: expect.stringMatching(/^lab up /), code: 0 },
        { args: 'lab down', code: 0 },
      ]);
      // Knot in every lab, whatever /tmp is: knotd (after its ExecStartPre, knotc conf-check as
      // user knot) runs on every dns host. Outside a view, the same check fails when /tmp is 0755.
      expect(r.knotd).toEqual(['ams-lb1', 'ams-lb2', 'nyc-lb1', 'nyc-lb2', 'sin-lb1', 'sin-lb2'].map((h) => `${h} running`));
      expect((r.knotControl as { code: number }).code).toBe(mode === '1777' ? 0 : 1);
      if (mode === '0755') expect((r.knotControl as { output: string }).output).toMatch(/failed to create temporary directory/);
      expect(r.fetches).toEqual(['ams 200', 'ams 200', 'nyc 200', 'nyc 200']);
      const written = r.cacheFilesInViews as { nginx: number; squid: number };
      expect(written.nginx, 'files nginx cached under /data/cache, inside its views').toBeGreaterThan(0);
      expect(written.squid, 'files Squid wrote under /srv/cache, inside its views').toBeGreaterThan(0);
      expect(r.onMachineWhileUp).toEqual([]);
      expect(r.entries as number).toBeGreaterThan(1000);
      expect(r.changes).toEqual([]);
      expect(r.leftovers).toEqual([]);
    }, 600_000);
  }
});
