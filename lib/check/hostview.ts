// A host view: a throwaway mount + network namespace in which one host's rendered tree is
// bind-mounted at its real paths (/etc/bird, /etc/knot, ...). Configs are checked byte for byte
// as rendered, includes and absolute paths work, writable state (/run, /var/cache, /var/log, ...)
// lands on tmpfs, and nothing the checkers bind or write reaches the machine. The namespace dies
// with the shell that runs the checks.
import { byCodePoint } from '../model/order.ts';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { shQuote } from '../render/syntax/shell.ts';

/** State directories replaced by tmpfs inside the view (those that exist on the machine). */
export const SCRATCH_DIRS = ['/dev/shm', '/run', '/var/cache', '/var/spool', '/var/log', '/var/lib/knot', '/var/lib/haproxy', '/var/lib/nginx'];

export interface HostViewPlan {
  /** The host's tree on disk: <treeDir>/<absolute path>. */
  treeDir: string;
  /** Every absolute path present in the tree (rendered files and fixtures). */
  paths: string[];
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
export function bindDirs(paths: string[], exists: (dir: string) => boolean = existsSync): string[] {
  const pick = (dir: string): string => {
    if (SCRATCH_DIRS.some((s) => dir === s || dir.startsWith(`${s}/`))) return dir;
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
 * Shell lines that turn a fresh mount namespace into the host's view: tmpfs over the state dirs,
 * the rendered tree bound at its real paths, and optionally an /etc/hosts of the caller's.
 * Shared by the checkers and the lab, so both see the files exactly as rendered.
 */
export function mountLines(treeDir: string, paths: string[], fileBinds: FileBind[] = []): string[] {
  const q = shQuote;
  const lines = [
    'fail() { echo "anycdn: $*" >&2; exit 97; }',
    // Each scratch dir becomes a tmpfs that keeps the machine's directory skeleton (owner and
    // mode, two levels deep), as the packages created it: /var/spool/squid owned by proxy, ...
    `for d in ${SCRATCH_DIRS.map(q).join(' ')}; do`,
    '\t[ -d "$d" ] || continue',
    '\tskel=$(find "$d" -xdev -mindepth 1 -maxdepth 2 -type d -printf \'%m %u:%g %p\\n\' 2>/dev/null)',
    '\tmount -t tmpfs anycdn "$d" || fail "cannot mount tmpfs on $d"',
    '\tprintf \'%s\\n\' "$skel" | while read -r mode owner path; do',
    '\t\t[ -n "$path" ] || continue',
    '\t\tmkdir -p "$path" && chown "$owner" "$path" && chmod "$mode" "$path"',
    '\tdone',
    'done',
  ];
  for (const dir of bindDirs(paths)) {
    const underScratch = SCRATCH_DIRS.some((s) => dir === s || dir.startsWith(`${s}/`));
    lines.push(
      underScratch
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
  const lines = ['set -u', ...mountLines(plan.treeDir, plan.paths, plan.fileBinds)];
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
  plan.checks.forEach((cmd, i) => {
    const base = `${plan.resultsDir}/${i}`;
    lines.push(`(${cmd}) >${q(`${base}.out`)} 2>&1 </dev/null; echo $? >${q(`${base}.rc`)}`);
  });
  return `${lines.join('\n')}\n`;
}

/** The command that runs a script in a fresh mount + network namespace (user namespace if not root). */
export function unshareArgs(script: string): string[] {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return ['--mount', '--net', '--propagation', 'private', ...(asRoot ? [] : ['--map-root-user']), '/bin/sh', '-c', script];
}
