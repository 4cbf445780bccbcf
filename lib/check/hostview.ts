// A host view: a throwaway mount + network namespace in which one host's rendered tree is
// bind-mounted at its real paths (/etc/bird, /etc/knot, ...). Configs are checked byte for byte
// as rendered, includes and absolute paths work, writable state (/run, /var/cache, /var/log, ...)
// lands on tmpfs, and nothing the checkers bind or write reaches the machine. The namespace dies
// with the shell that runs the checks.
import { byCodePoint } from '../model/order.ts';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DirNeed } from '../render/index.ts';
import { shQuote } from '../render/syntax/shell.ts';

/** State directories replaced by tmpfs inside the view (those that exist on the machine). */
export const SCRATCH_DIRS: readonly string[] = ['/dev/shm', '/run', '/var/cache', '/var/spool', '/var/log', '/var/lib/knot', '/var/lib/haproxy', '/var/lib/nginx', '/var/lib/prometheus'];

export interface HostViewPlan {
  /** The host's tree on disk: <treeDir>/<absolute path>. */
  treeDir: string;
  /** Every absolute path present in the tree (rendered files and fixtures). */
  paths: string[];
  /** Directories the host needs on the view's empty state dirs (see render/catalog.ts). */
  dirs: DirNeed[];
  /** Single files bound over the machine's: an /etc/hosts for names the checked files resolve. */
  fileBinds?: FileBind[];
  /** Interface names that must exist (keepalived refuses missing ones, and lo). */
  interfaces: string[];
  /** Shell commands that create fixtures inside the view (throwaway certificates). */
  setup: string[];
  /** The checks: a shell command each; output and exit code go to <resultsDir>/<i>.out / .rc. */
  checks: string[];
  resultsDir: string;
}

/** A file of the caller's bound over one of the machine's (/etc/hosts, the CA bundle). */
export interface FileBind {
  source: string;
  target: string;
}

/** Directories never bound over: hiding them would hide the machine (users, libraries). */
const PROTECTED = new Set(['/', '/etc', '/usr', '/usr/local', '/usr/lib', '/var', '/var/lib', '/opt', '/srv', '/home', '/root']);

/**
 * The directories to bind: each file's directory, or, where it does not exist on the machine, its
 * nearest existing ancestor (so /etc/knot/zones binds /etc/knot), unless an ancestor is bound
 * already. Directories under the tmpfs scratch dirs are created inside the view instead.
 */
export function bindDirs(paths: string[], exists: (dir: string) => boolean = existsSync, scratchDirs: readonly string[] = SCRATCH_DIRS): string[] {
  const pick = (dir: string): string => {
    if (scratchDirs.some((s) => dir === s || dir.startsWith(`${s}/`))) return dir;
    let d = dir;
    while (!exists(d) && !PROTECTED.has(dirname(d))) d = dirname(d);
    return exists(d) || !PROTECTED.has(dirname(d)) ? d : dir;
  };
  const dirs = [...new Set(paths.map((p) => pick(dirname(p))))].sort((a, b) => a.length - b.length || byCodePoint(a, b));
  const chosen: string[] = [];
  for (const d of dirs) {
    if (!chosen.some((c) => d === c || d.startsWith(`${c}/`))) chosen.push(d);
  }
  return chosen.sort();
}

/**
 * Shell lines that turn a fresh mount namespace into the host's view: an empty tmpfs over each
 * state dir, exactly the directories the host needs on them (`dirs`, from the render), the
 * rendered tree bound at its real paths, and optionally files of the caller's (/etc/hosts).
 * Shared by the checkers and the lab, so both see the files exactly as rendered. The work is
 * fixed by the host's needs: nothing here depends on what the machine holds under /var or /run,
 * and the directories cost one `install` per owner and mode, not a process per directory.
 */
export function mountLines(treeDir: string, paths: string[], fileBinds: FileBind[] = [], dirs: DirNeed[] = [], scratchDirs: readonly string[] = SCRATCH_DIRS): string[] {
  const q = shQuote;
  const under = (dir: string) => scratchDirs.some((s) => dir === s || dir.startsWith(`${s}/`));
  const lines = [
    'fail() { echo "anycdn: $*" >&2; exit 97; }',
    `for d in ${scratchDirs.map(q).join(' ')}; do`,
    '\t[ -d "$d" ] || continue',
    '\tmount -t tmpfs -o mode=0755 anycdn "$d" || fail "cannot mount tmpfs on $d"',
    'done',
    // Shared memory is for everyone, as on every Linux machine (squid's workers use it).
    ...(scratchDirs.includes('/dev/shm') ? ['[ ! -d /dev/shm ] || chmod 1777 /dev/shm'] : []),
  ];
  const groups = new Map<string, string[]>();
  for (const d of dirs.filter((x) => under(x.path))) {
    const key = `${d.owner}\t${d.group}\t${d.mode.toString(8).padStart(4, '0')}`;
    groups.set(key, [...(groups.get(key) ?? []), d.path]);
  }
  // install -d sets owner and mode on existing directories too, so the order of groups is free.
  for (const [key, list] of [...groups.entries()].sort()) {
    const [owner, group, mode] = key.split('\t') as [string, string, string];
    lines.push(`install -d -o ${q(owner)} -g ${q(group)} -m ${mode} ${list.map(q).join(' ')} || fail ${q(`cannot create ${list.join(' ')}`)}`);
  }
  for (const dir of bindDirs(paths, existsSync, scratchDirs)) {
    lines.push(
      under(dir)
        ? `mkdir -p ${q(dir)}`
        : `[ -d ${q(dir)} ] || fail ${q(`${dir} does not exist on this machine; install the package that owns it`)}`,
      `mount --bind ${q(treeDir + dir)} ${q(dir)} || fail ${q(`cannot bind ${dir}`)}`,
    );
  }
  for (const b of fileBinds) lines.push(`mount --bind ${q(b.source)} ${q(b.target)} || fail ${q(`cannot bind ${b.target}`)}`);
  return lines;
}

export function hostViewScript(plan: HostViewPlan): string {
  const q = shQuote;
  const lines = ['set -u', ...mountLines(plan.treeDir, plan.paths, plan.fileBinds, plan.dirs)];
  lines.push('ip link set lo up || fail "cannot bring up lo"');
  plan.interfaces.forEach((name, i) => {
    lines.push(`ip link add ${q(name)} type veth peer name ${q(`anycdnck${i}`)} || fail ${q(`cannot create interface ${name}`)}`);
    lines.push(`ip link set ${q(name)} up`);
  });
  lines.push(
    'echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind',
    'echo 1 > /proc/sys/net/ipv6/ip_nonlocal_bind',
    ...plan.setup.map((s) => `${s} >/dev/null 2>&1 || fail ${q(`fixture failed: ${s}`)}`),
    'set +e',
  );
  // The checks of one host run side by side: each writes only its own result files.
  plan.checks.forEach((cmd, i) => {
    const base = `${plan.resultsDir}/${i}`;
    lines.push(`{ (${cmd}) >${q(`${base}.out`)} 2>&1 </dev/null; echo $? >${q(`${base}.rc`)}; } &`);
  });
  lines.push('wait');
  return `${lines.join('\n')}\n`;
}

/** The command that runs a script in a fresh mount + network namespace (user namespace if not root). */
export function unshareArgs(script: string): string[] {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return ['--mount', '--net', '--propagation', 'private', ...(asRoot ? [] : ['--map-root-user']), '/bin/sh', '-c', script];
}
