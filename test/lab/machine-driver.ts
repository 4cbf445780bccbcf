// Run by test/lab/machine.test.ts, inside a mount namespace of its own whose /tmp is a fresh
// tmpfs of the mode given as argv[2] (1777, or 0755 as on the machine issue 24 found): a snapshot
// of the machine, `validate` and `lab up` of a model with caches at /srv/cache (Squid) and
// /data/cache (nginx), traffic through both caches, `lab down`, the snapshot again. Prints one
// JSON object on stdout; writes nothing itself but the model, in /tmp, before the first snapshot.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, mainPid } from '../../lib/lab/control.ts';
import { imageSet } from '../../lib/lab/images.ts';
import { LAB_IMAGE_COUNT } from '../../lib/lab/origin.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { LAB_DIR, readState } from '../../lib/lab/state.ts';
import { loadTexts } from '../../lib/model/load.ts';
import { PACKAGE_ROOT } from '../../lib/package-root.ts';
import { shippedTexts } from '../helpers/topology.ts';
import { changes, snapshot } from '../helpers/snapshot.ts';

/** The shipped model with its caches on big disks that this machine does not have. */
const CACHES = { squid: '/srv/cache', nginx: '/data/cache' };

/** What is kept of these paths without their mtime or what is below them, and why. */
function skips(): Map<string, string> {
  const skip = new Map<string, string>([
    ['/proc', 'a kernel filesystem: its entries follow processes, not files'],
    ['/sys', 'a kernel filesystem: its entries follow devices and namespaces'],
    ['/dev', "the machine's devices: its entries follow hardware, not files (the views have a /dev of their own)"],
    ['/run', "the state of running things: the lab's namespaces (ip netns, /run/netns) and its state (/run/anycdn-lab) live there by design, and are checked gone after lab down"],
  ]);
  // On CI the checkout may lie under /home: vitest and the build write there while the test runs.
  skip.set(PACKAGE_ROOT, "the project's own checkout, where vitest and the build write");
  // The caller's home (argv[3]): its other sessions write there. Ours is HOME, in the walked /tmp.
  const home = process.argv[3] ?? '';
  if (!home.startsWith('/') || home === '/' || SNAPSHOT.trees.includes(home)) throw new Error(`the caller's home ${JSON.stringify(home)} would hide a whole tree of the snapshot`);
  skip.set(home, "the home of the test's user, written by that user's other sessions; the driver's HOME is in the private /tmp, walked");
  return skip;
}

const SNAPSHOT = { trees: ['/etc', '/usr', '/var', '/srv', '/tmp', '/home'], shallow: ['/'], limit: 1_000_000 };

function main(): void {
  const mode = process.argv[2]!;
  const report: Record<string, unknown> = { tmpMode: (statSync('/tmp').mode & 0o7777).toString(8).padStart(4, '0') };
  const sites = '/tmp/anycdn-machine-test-sites';
  mkdirSync(sites, { mode: 0o755 });
  const texts = shippedTexts();
  const cdn = texts['sites/cdn.yaml']!.replace(/\ncache:\n/, `\ncache:\n  nginx: { path: ${CACHES.nginx} }\n  squid: { path: ${CACHES.squid} }\n`);
  if (cdn === texts['sites/cdn.yaml']) throw new Error('the edit of sites/cdn.yaml did not apply: its cache section changed shape');
  texts['sites/cdn.yaml'] = cdn;
  for (const [file, text] of Object.entries(texts)) writeFileSync(join(sites, file.replace(/^sites\//, '')), text);
  // What knotc does on a machine whose /tmp is not world-writable, outside any view: a control.
  writeFileSync(join(sites, 'knot-control.conf'), 'server:\n  listen: 127.0.0.1@53\n');
  const t = loadTexts(Object.entries(texts).map(([file, text]) => ({ file, text, global: file.endsWith('/cdn.yaml') })));

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'anycdn.js'), ...args], { encoding: 'utf8', timeout: 300_000 });
    return { args: args.join(' '), code: r.status ?? -1, output: `${r.stdout}${r.stderr}`.split('\n').slice(-12).join('\n') };
  };
  const sh = (cmd: string[]) => {
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
  };
  // Before the first snapshot: at 1777 it makes and removes a directory in /tmp.
  report.knotControl = sh(['setpriv', '--reuid=knot', '--regid=knot', '--init-groups', '/usr/sbin/knotc', '-c', join(sites, 'knot-control.conf'), 'conf-check']);

  const spec = { ...SNAPSHOT, skip: skips() };
  const before = snapshot(spec);
  const steps = [];
  steps.push(cli('validate', '--sites', sites));
  steps.push(cli('lab', 'up', '--sites', sites));

  // While the lab runs: knotd on every dns host (its ExecStartPre, knotc conf-check, passed as
  // user knot), one image twice through ams (nginx) and nyc (Squid), and what the caches wrote,
  // seen inside the host views and on the machine.
  const hosts = t.sites.flatMap((s) => s.hosts.map((h) => ({ site: s, host: h })));
  report.knotd = hosts.filter((x) => x.host.roles.includes('dns')).map((x) => `${x.host.name} ${isAlive(mainPid(x.host.name, 'knot') ?? 0) ? 'running' : 'not running'}`);
  const image = `/${imageSet(LAB_IMAGE_COUNT)[0]!.name}`;
  report.fetches = ['ams', 'nyc'].flatMap((id) => {
    const site = t.sites.find((s) => s.id === id)!;
    return [1, 2].map(() => `${id} ${sh(['ip', 'netns', 'exec', nsOf.client(id), 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-H', `Host: ${t.cdn.imageHost}`, `http://${site.vip.address}${image}`]).output}`);
  });
  const holders = readState()?.holders ?? {};
  const inView = (engine: 'nginx' | 'squid') => {
    const files: string[] = [];
    for (const { host } of hosts.filter((x) => x.host.cacheEngine === engine)) {
      const root = `/proc/${holders[host.name]}/root${CACHES[engine]}`;
      const walk = (dir: string, depth: number) => {
        for (const e of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
          if (e.isDirectory() && depth < 4) walk(join(dir, e.name), depth + 1);
          else if (e.isFile()) files.push(e.name);
        }
      };
      walk(root, 0);
    }
    return files.length;
  };
  // nginx's cached responses, Squid's swap.state and cache files: written inside the views.
  report.cacheFilesInViews = { nginx: inView('nginx'), squid: inView('squid') };
  report.onMachineWhileUp = ['/data', CACHES.squid].filter((p) => existsSync(p));

  steps.push(cli('lab', 'down'));
  const after = snapshot(spec);
  report.steps = steps;
  report.entries = before.size;
  report.changes = changes(before, after);
  report.leftovers = [...(existsSync(LAB_DIR) ? [LAB_DIR] : []), ...(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('acdn-')).map((n) => `/run/netns/${n}`) : [])];
  rmSync(sites, { recursive: true, force: true });
  if (mode !== report.tmpMode) report.error = `asked for /tmp at ${mode}, got ${report.tmpMode as string}`;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main();
