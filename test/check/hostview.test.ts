// Host views (lib/check/hostview.ts): the layout of one on a made-up machine, whole; and, as root,
// a real one: exactly the host's directories on tmpfs, with their owner and mode, whatever the
// machine holds there; every other write refused inside it; nothing made on the machine.
// (How long a view takes is measured in `npm run bench`, not here.)
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewLayout, viewLines, type Machine } from '../../lib/check/hostview.ts';
import { checkResults, hostViewScript, unshareArgs } from '../../lib/check/host-script.ts';
import type { DirNeed } from '../../lib/render/catalog.ts';
import { hostDirs } from '../../lib/render/catalog.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { run } from '../../lib/run.ts';
import { missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';

/** A machine of `entries` (path -> kind), every one root's with mode 0755. */
function machine(entries: Record<string, 'dir' | 'file' | 'symlink' | 'other'>): Machine {
  return {
    stat: (p) => (entries[p] ? { kind: entries[p], mode: 0o755, uid: 0, gid: 0 } : undefined),
    list: (d) => Object.keys(entries).filter((p) => p !== '/' && dirname(p) === d).map((p) => basename(p)).sort(),
  };
}

const MACHINE = machine({
  '/': 'dir',
  '/.dockerenv': 'file',
  '/bin': 'symlink',
  '/dev': 'dir',
  '/dev/null': 'other',
  '/dev/sda': 'other',
  '/etc': 'dir',
  '/etc/hosts': 'file',
  '/etc/nginx': 'dir',
  '/proc': 'dir',
  '/proc/sys/net': 'dir',
  '/run': 'dir',
  '/srv': 'dir',
  '/srv/README': 'file',
  '/srv/www': 'dir',
  '/tmp': 'dir',
  '/usr': 'dir',
  '/var': 'dir',
  '/var/log': 'dir',
});

const dir = (path: string, owner = 'root', group = 'root', mode = 0o755): DirNeed => ({ path, owner, group, mode });

describe('host view layout', () => {
  it('is a read-only copy of the machine with the host\'s directories on tmpfs, the missing ones on new mountpoints', () => {
    const v = viewLayout(
      {
        stage: '/stage',
        treeDir: '/tree',
        paths: ['/etc/nginx/nginx.conf', '/run/anycdn/secrets/bird-peer.conf'],
        dirs: [dir('/data'), dir('/data/cache', 'www-data', 'root', 0o700), dir('/srv'), dir('/srv/cache', 'proxy', 'proxy', 0o750), dir('/var/log/nginx', 'root', 'adm'), dir('/run/knot', 'knot', 'knot')],
        fileBinds: [{ source: '/lab/hosts', target: '/etc/hosts' }],
        writable: ['/lab/pids'],
      },
      MACHINE,
    );
    expect(v.errors).toEqual([]);
    expect(v.fstab1).toEqual([
      '/etc /stage/etc none rbind,X-mount.mkdir 0 0',
      '/proc /stage/proc none rbind,X-mount.mkdir 0 0',
      // /srv has no cache directory: a skeleton of it, its entries bound back (pass 2).
      '/srv /stage/srv none rbind,X-mount.mkdir 0 0',
      'anycdn-skeleton /stage/srv tmpfs mode=0755,uid=0,gid=0 0 0',
      '/usr /stage/usr none rbind,X-mount.mkdir 0 0',
      '/var /stage/var none rbind,X-mount.mkdir 0 0',
    ]);
    expect(v.fstab2).toEqual([
      '/.dockerenv /stage/.dockerenv none bind 0 0',
      // /data is on no machine: a new mountpoint on the root skeleton.
      'anycdn-view /stage/data tmpfs mode=0755,nosuid,nodev,X-mount.mkdir 0 0',
      '/dev/null /stage/dev/null none bind 0 0',
      'anycdn-view /stage/dev/shm tmpfs mode=1777,nosuid,nodev,X-mount.mkdir 0 0',
      '/lab/hosts /stage/etc/hosts none bind 0 0',
      '/tree/etc/nginx /stage/etc/nginx none bind 0 0',
      '/tree/run/anycdn/secrets /stage/run/anycdn/secrets none bind,X-mount.mkdir 0 0',
      '/srv/README /stage/srv/README none bind 0 0',
      'anycdn-view /stage/srv/cache tmpfs mode=0750,nosuid,nodev,X-mount.mkdir 0 0',
      '/srv/www /stage/srv/www none rbind,X-mount.mkdir 0 0',
      'anycdn-view /stage/tmp tmpfs mode=1777,nosuid,nodev,X-mount.mkdir 0 0',
      'anycdn-view /stage/var/log tmpfs mode=0755,uid=0,gid=0,nosuid,nodev,X-mount.mkdir 0 0',
    ]);
    expect(v.writable).toEqual(['/lab/pids /stage/lab/pids none bind,X-mount.mkdir 0 0', '/proc/sys/net /stage/proc/sys/net none bind 0 0']);
    // No /dev/sda: the view's /dev holds the listed devices only.
    expect(v.files).toEqual(['/stage/.dockerenv', '/stage/dev/null', '/stage/srv/README']);
    expect(v.links).toEqual([['/', ['/bin']]]);
    expect(v.installs).toEqual([
      { owner: 'knot', group: 'knot', mode: '0755', paths: ['/stage/run/knot'] },
      { owner: 'proxy', group: 'proxy', mode: '0750', paths: ['/stage/srv/cache'] },
      { owner: 'root', group: 'adm', mode: '0755', paths: ['/stage/var/log/nginx'] },
      { owner: 'root', group: 'root', mode: '0755', paths: ['/stage/data'] },
      { owner: 'www-data', group: 'root', mode: '0700', paths: ['/stage/data/cache'] },
    ]);
  });

  it('makes the directories with one install per owner and mode, and nothing that walks the machine', () => {
    const lines = viewLines({ stage: '/stage', treeDir: '/tree', paths: [], dirs: [dir('/run/a'), dir('/run/b'), dir('/var/log/c'), dir('/run/d', 'knot', 'knot')] }, MACHINE);
    expect(lines.filter((l) => l.startsWith('install '))).toEqual([
      "install -d -o 'knot' -g 'knot' -m 0755 '/stage/run/d' || fail 'cannot create /run/d'",
      "install -d -o 'root' -g 'root' -m 0755 '/stage/run/a' '/stage/run/b' '/stage/var/log/c' || fail 'cannot create /run/a /run/b /var/log/c'",
    ]);
    expect(lines.join('\n')).not.toMatch(/\bfind\b/);
    expect(lines.filter((l) => l.startsWith('mount -a '))).toHaveLength(3);
  });

  it('leaves a system directory the host lists as the machine has it', () => {
    const v = viewLayout({ stage: '/stage', treeDir: '/tree', paths: [], dirs: [dir('/srv'), dir('/var')] }, MACHINE);
    expect(v.fstab2.filter((l) => l.includes('/srv ') || l.includes('/var '))).toEqual([]);
    expect(v.installs).toEqual([]);
  });

  it('refuses a path with . or .. (it would resolve past the view\'s root) before it mounts anything', () => {
    const lines = viewLines({ stage: '/stage', treeDir: '/tree', paths: ['/etc/nginx/../../x'], dirs: [dir('/var/cache/../../../etc')] }, MACHINE);
    expect(lines).toEqual([
      'fail() { echo "anycdn: $*" >&2; exit 97; }',
      "fail 'the host view refuses paths that are not normal (., .. or an empty segment): /var/cache/../../../etc, /etc/nginx/../../x'",
    ]);
  });

  it('refuses a path in /proc, /sys or /dev: through /proc/<pid>/root it would lead out of the view', () => {
    const v = viewLayout({ stage: '/stage', treeDir: '/tree', paths: [], dirs: [dir('/proc/1/root/srv/cache'), dir('/dev/shm/x')] }, MACHINE);
    expect(v.errors).toEqual(['the host view refuses paths in /proc, /sys or /dev: /proc/1/root/srv/cache']);
  });

  it('mounts a /proc of its own when it runs in a PID namespace of its own', () => {
    const v = viewLayout({ stage: '/stage', treeDir: '/tree', paths: [], dirs: [], pidNamespace: true }, MACHINE);
    expect(v.fstab1.filter((l) => l.includes('/stage/proc'))).toEqual(['proc /stage/proc proc nosuid,nodev,noexec,X-mount.mkdir 0 0']);
  });

  it('says so when a directory would need a skeleton inside another', () => {
    const m = machine({ '/': 'dir', '/srv': 'dir', '/srv/www': 'dir' });
    const v = viewLayout({ stage: '/stage', treeDir: '/tree', paths: [], dirs: [dir('/srv/a'), dir('/srv/www/b')] }, m);
    expect(v.errors).toEqual(['/srv/www/b needs a skeleton of /srv/www inside the skeleton of /srv; the host view builds one level']);
  });
});

describe('the script of a host\'s checks', () => {
  it('reads each check\'s output and exit code back by the nonce in tail\'s headers, which no output can forge', () => {
    const n = 'abc123';
    const h = (f: string) => `==> /run/anycdn-check-${n}/${f} <==\n`;
    const forged = '==> /run/anycdn-check-other/1.rc <==\n0\n';
    const stdout = `${h('0.out')}line one\n${forged}\n${h('0.rc')}1\n\n${h('1.out')}no newline\n${h('1.rc')}0\n`;
    expect(checkResults(stdout, 3, n)).toEqual([
      { output: `line one\n${forged}`, code: 1 },
      { output: 'no newline', code: 0 },
      { output: '', code: 999 },
    ]);
  });

  it('writes nothing when a file\'s path is not normal: a .. would land outside the tree, on the machine', () => {
    const script = hostViewScript({ stage: '/tmp', files: [{ path: '/etc/../../x', content: 'x' }], dirs: [], interfaces: [], checks: ['true'], nonce: 'n' });
    expect(script).toBe("echo 'anycdn: the host view refuses paths that are not normal (., .. or an empty segment): /etc/../../x' >&2; exit 97\n");
  });
});

describe.skipIf(missingRoot())('the tree a check writes inside its namespace', () => {
  it('holds every file byte for byte: backslashes, %, quotes, a NUL', async () => {
    const content = 'a\\b\\c %s %% \\0 \u0000 end\\n\n\'"$x`\n';
    const nonce = 'bytes';
    const script = hostViewScript({ stage: '/tmp', files: [{ path: '/usr/local/etc/anycdn-bytes-test/x', content }], dirs: [], interfaces: [], checks: ['cat /usr/local/etc/anycdn-bytes-test/x'], nonce });
    const r = await run('/usr/bin/unshare', unshareArgs(), { input: script, timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(checkResults(r.stdout, 1, nonce)).toEqual([{ output: content, code: 0 }]);
  });
});

describe.skipIf(missingRoot())('a host view on this machine', () => {
  let work: string;
  const top = `/anycdn-view-test-${process.pid}`;
  const inSrv = `/srv/anycdn-view-test-${process.pid}`;
  let output = '';
  let pidOutput = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'anycdn-view-'));
    for (const d of ['stage', 'out', 'tree/usr/local/etc/anycdn-view-test']) mkdirSync(join(work, d), { recursive: true });
    writeFileSync(join(work, 'tree/usr/local/etc/anycdn-view-test/a.conf'), 'rendered\n');
    if (existsSync(top) || existsSync(inSrv)) throw new Error(`${top} or ${inSrv} exists already`);
    const needs = [dir('/var/cache/nginx'), dir(top), dir(`${top}/cache`, 'www-data', 'root', 0o700), dir(inSrv, 'proxy', 'proxy', 0o750), dir('/run/knot', 'knot', 'knot')];
    const tries = ['/etc/x', '/usr/x', '/x', '/srv/x', '/var/x', '/var/lib/x', '/home/x', '/proc/sys/kernel/hostname', '/usr/local/etc/anycdn-view-test/a.conf', '/dev/sda', `${top}/x`, `${top}/cache/x`, `${inSrv}/x`, '/var/cache/nginx/x', '/run/knot/x', '/tmp/x', '/dev/shm/x', '/proc/sys/net/ipv4/ip_forward', `${work}/out/x`];
    const script = [
      'set -u',
      ...viewLines({ stage: join(work, 'stage'), treeDir: join(work, 'tree'), paths: ['/usr/local/etc/anycdn-view-test/a.conf'], dirs: needs, writable: [join(work, 'out')] }),
      'cat /usr/local/etc/anycdn-view-test/a.conf',
      `find /var/cache ${top} ${inSrv} /run/knot /tmp /dev -mindepth 0 -printf '%p %u:%g %m\\n' | sort`,
      ...tries.map((p) => `if (echo 1 > ${p}) 2>/dev/null; then echo "wrote ${p}"; else echo "refused ${p}"; fi`),
    ].join('\n');
    const r = await run('/usr/bin/unshare', ['--mount', '--net', '--propagation', 'private', '/bin/sh', '-s'], { input: script, timeoutMs: 60_000 });
    output = `${r.stderr}${r.stdout}`;
    // In a PID namespace of its own (as validate runs it), /proc shows the view's processes only,
    // so /proc/<pid>/root leads back into the view, never to the machine's root.
    const own = [
      'set -u',
      ...viewLines({ stage: join(work, 'stage'), treeDir: join(work, 'tree'), paths: [], dirs: [], pidNamespace: true }),
      'echo "processes $(ls /proc | grep -c "^[0-9]")"',
      `if (echo 1 > /proc/1/root${top}) 2>/dev/null; then echo "wrote /proc/1/root${top}"; else echo "refused /proc/1/root${top}"; fi`,
    ].join('\n');
    const p = await run('/usr/bin/unshare', ['--mount', '--net', '--pid', '--fork', '--kill-child', '--propagation', 'private', '/bin/sh', '-s'], { input: own, timeoutMs: 60_000 });
    pidOutput = `${p.stderr}${p.stdout}`;
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds exactly the host\'s directories, with their owner and mode, and none of what the machine has there', () => {
    // The caller's writable directory is bound into the view at its own path: under /tmp when
    // TMPDIR is /tmp (as in CI), elsewhere when it is not. The next test writes to it.
    const listed = output.split('\n').filter((l) => l.startsWith('/') && !l.startsWith(`${work} `) && !l.startsWith(`${work}/`));
    expect(listed).toEqual(
      [
        '/var/cache root:root 755',
        '/var/cache/nginx root:root 755',
        `${top} root:root 755`,
        `${top}/cache www-data:root 700`,
        `${inSrv} proxy:proxy 750`,
        '/run/knot knot:knot 755',
        '/tmp root:root 1777',
        '/dev root:root 755',
        '/dev/fd root:root 777',
        '/dev/full root:root 666',
        '/dev/null root:root 666',
        '/dev/random root:root 666',
        '/dev/shm root:root 1777',
        '/dev/stderr root:root 777',
        '/dev/stdin root:root 777',
        '/dev/stdout root:root 777',
        '/dev/tty root:root 666',
        '/dev/urandom root:root 666',
        '/dev/zero root:root 666',
      ].sort(),
    );
  });

  it('refuses every write but to those directories, /tmp, /dev/shm, its own network sysctls and the caller\'s writable one', () => {
    expect(output.split('\n').filter((l) => /^(wrote|refused) /.test(l))).toEqual([
      'refused /etc/x',
      'refused /usr/x',
      'refused /x',
      'refused /srv/x',
      'refused /var/x',
      'refused /var/lib/x',
      'refused /home/x',
      'refused /proc/sys/kernel/hostname',
      'refused /usr/local/etc/anycdn-view-test/a.conf',
      'refused /dev/sda',
      `wrote ${top}/x`,
      `wrote ${top}/cache/x`,
      `wrote ${inSrv}/x`,
      'wrote /var/cache/nginx/x',
      'wrote /run/knot/x',
      'wrote /tmp/x',
      'wrote /dev/shm/x',
      'wrote /proc/sys/net/ipv4/ip_forward',
      `wrote ${work}/out/x`,
    ]);
  });

  it('in a PID namespace of its own, shows its own processes only, and /proc/1/root is its own root', () => {
    expect(pidOutput.trim().split('\n')).toEqual([expect.stringMatching(/^processes [1-5]$/), `refused /proc/1/root${top}`]);
  });

  it('shows the rendered tree at its real path', () => {
    expect(output.split('\n')).toContain('rendered');
  });

  it('made nothing on the machine', () => {
    expect([existsSync(top), existsSync(inSrv)]).toEqual([false, false]);
  });
});

describe('host view directories', () => {
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
    const cache = hostDirs(t, site, site.hosts.find((h) => h.cacheEngine === 'nginx')!).map((d) => `${d.path} ${d.owner}:${d.group} ${d.mode.toString(8)}`);
    // nginx makes the cache directory itself (0700, its worker user's); the view must have it.
    expect(cache.filter((d) => d.startsWith('/var/cache/nginx'))).toEqual(['/var/cache/nginx root:root 755', '/var/cache/nginx/anycdn www-data:root 700']);
  });
});
