// A host view creates exactly the directories the host needs, whatever the machine holds: here
// over scratch state dirs that hold 2,000 extra directories, standing in for a big /var/cache.
// (How long a view takes is measured in `npm run bench`, not here.)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountLines } from '../../lib/check/hostview.ts';
import type { DirNeed } from '../../lib/render/catalog.ts';
import { hostDirs } from '../../lib/render/catalog.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { run } from '../../lib/run.ts';
import { missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';

let root: string;
let cache: string;
let runDir: string;
let needs: DirNeed[];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'anycdn-view-'));
  cache = join(root, 'var-cache');
  runDir = join(root, 'run');
  mkdirSync(runDir, { recursive: true });
  for (let i = 0; i < 2000; i++) mkdirSync(join(cache, `pkg${Math.floor(i / 40)}`, `d${i}`), { recursive: true });
  needs = [
    { path: join(cache, 'nginx'), owner: 'root', group: 'root', mode: 0o755 },
    { path: join(cache, 'squid', 'anycdn'), owner: 'proxy', group: 'proxy', mode: 0o750 },
    { path: join(runDir, 'knot'), owner: 'knot', group: 'knot', mode: 0o755 },
    { path: join(runDir, 'anycdn'), owner: 'root', group: 'root', mode: 0o755 },
  ];
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('host view directories', () => {
  it('are one install per owner and mode, and nothing that walks the machine', () => {
    const lines = mountLines('/nonexistent-tree', [], [], needs, [cache, runDir]);
    expect(lines.filter((l) => l.startsWith('install '))).toHaveLength(3);
    expect(lines.join('\n')).not.toMatch(/\bfind\b|\bwhile read\b/);
  });

  it.skipIf(missingRoot())('hold exactly the needed directories, with their owner and mode, and none of the machine\'s 2,000', async () => {
    const script = [...mountLines('/nonexistent-tree', [], [], needs, [cache, runDir]), `find ${cache} ${runDir} -mindepth 1 -printf '%p %u:%g %m\\n' | sort`].join('\n');
    const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(
      [
        `${cache}/nginx root:root 755`,
        `${cache}/squid root:root 755`,
        `${cache}/squid/anycdn proxy:proxy 750`,
        `${runDir}/anycdn root:root 755`,
        `${runDir}/knot knot:knot 755`,
      ].sort(),
    );
  });

  it('come from the render: every unit\'s runtime and state directory, and the daemons\' package directories', () => {
    const t = loadTopology(SITES_DIR);
    const site = t.sites.find((s) => s.id === 'ams')!;
    const dns = hostDirs(t, site, site.hosts.find((h) => h.name === 'ams-lb1')!).map((d) => `${d.path} ${d.owner}:${d.group} ${d.mode.toString(8)}`);
    expect(dns).toEqual([
      '/run/anycdn root:root 755',
      // the ACME issuer's account (ams-lb1 is acme.issuer): tmpfs, root's alone
      '/run/anycdn-acme root:root 700',
      '/run/bird root:root 755',
      '/run/haproxy root:root 755',
      '/run/keepalived root:root 755',
      '/run/knot knot:knot 755',
      '/var/lib/haproxy root:root 755',
      '/var/lib/knot root:knot 770',
      // monitoring: node-exporter's textfile directory, which keepalived's notify script writes
      '/var/lib/prometheus prometheus:prometheus 755',
      '/var/lib/prometheus/node-exporter root:root 755',
    ]);
    const nyc = t.sites.find((s) => s.id === 'nyc')!;
    const squid = hostDirs(t, nyc, nyc.hosts.find((h) => h.cacheEngine === 'squid')!).map((d) => `${d.path} ${d.owner}:${d.group} ${d.mode.toString(8)}`);
    expect(squid).toEqual(['/var/log/squid proxy:proxy 755', '/var/spool/squid proxy:proxy 755', `${t.cdn.cache.squid.path} proxy:proxy 750`, '/var/lib/prometheus prometheus:prometheus 755', '/var/lib/prometheus/node-exporter root:root 755'].sort());
  });
});
