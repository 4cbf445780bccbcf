// The script of one host's checks in its host view (hostview.ts): the rendered tree written into
// a tmpfs of the check's own mount namespace, the view built over it, the interfaces made, the
// checks run side by side, and each one's output and exit code printed for checkResults. Nothing
// of a check is written to disk, so `validate` needs no temporary directory at all.
import { byCodePoint } from '../model/order.ts';
import { dirname } from 'node:path';
import type { DirNeed } from '../render/index.ts';
import { shQuote } from '../render/syntax/shell.ts';
import { isNormal, MACHINE, octal, viewLines, type Machine } from './hostview.ts';

export interface HostViewPlan {
  /** The view's stage (ViewSpec.stage). */
  stage: string;
  /** The host's files, written inside the namespace (nothing of the check touches the disk). */
  files: { path: string; content: string; mode?: number }[];
  dirs: DirNeed[];
  /** Single files bound over the machine's: an /etc/hosts for names the checked files resolve. */
  hosts?: string;
  /** Interface names that must exist (keepalived refuses missing ones, and lo). */
  interfaces: string[];
  /** The checks: a shell command each, run side by side. */
  checks: string[];
  /** A random token that marks the results in the script's output (checkResults). */
  nonce: string;
}

/** Where the checks' results are written inside the view, and printed from. */
const resultsDir = (nonce: string) => `/run/anycdn-check-${nonce}`;
/** The tree, written into a tmpfs of the namespace outside the view's root (gone after pivot_root). */
const TREE = '/run/anycdn-tree';

/** The script of one host's checks (see the header), run by `sh -s` under unshareArgs(). */
export function hostViewScript(plan: HostViewPlan, m: Machine = MACHINE): string {
  const q = shQuote;
  const files = [...plan.files, ...(plan.hosts === undefined ? [] : [{ path: '/anycdn-hosts', content: plan.hosts }])];
  const dirs = [...new Set(files.map((f) => dirname(TREE + f.path)))].sort(byCodePoint);
  const results = resultsDir(plan.nonce);
  const odd = files.map((f) => f.path).filter((p) => !isNormal(p));
  if (odd.length > 0) return `echo ${q(`anycdn: the host view refuses paths that are not normal (., .. or an empty segment): ${odd.join(', ')}`)} >&2; exit 97\n`;
  const lines = [
    'set -u',
    'fail() { echo "anycdn: $*" >&2; exit 97; }',
    `mount -t tmpfs -o mode=0700 anycdn-tree /run && mkdir -p ${dirs.map(q).join(' ')} || fail "cannot write the rendered tree"`,
    // %b with every backslash doubled: a NUL byte (bird -p must see one in raw.bird) becomes \0000,
    // since no shell string can hold it.
    ...files.map((f) => `printf '%b' ${q(f.content.replace(/\\/g, '\\\\').replace(/\0/g, '\\0000'))} > ${q(TREE + f.path)}`),
  ];
  const modes = new Map<number, string[]>();
  for (const f of files) if (f.mode !== undefined && f.mode !== 0o644) modes.set(f.mode, [...(modes.get(f.mode) ?? []), TREE + f.path]);
  for (const [mode, list] of [...modes].sort((a, b) => a[0] - b[0])) lines.push(`chmod ${octal(mode)} ${list.map(q).join(' ')}`);
  lines.push(
    ...viewLines(
      {
        stage: plan.stage,
        treeDir: TREE,
        paths: plan.files.map((f) => f.path),
        dirs: [...plan.dirs, { path: results, owner: 'root', group: 'root', mode: 0o700 }],
        fileBinds: plan.hosts === undefined ? [] : [{ source: `${TREE}/anycdn-hosts`, target: '/etc/hosts' }],
        pidNamespace: true,
      },
      m,
    ),
    'ip link set lo up || fail "cannot bring up lo"',
  );
  plan.interfaces.forEach((name, i) => {
    lines.push(`ip link add ${q(name)} type veth peer name ${q(`anycdnck${i}`)} || fail ${q(`cannot create interface ${name}`)}`);
    lines.push(`ip link set ${q(name)} up`);
  });
  lines.push('echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind', 'echo 1 > /proc/sys/net/ipv6/ip_nonlocal_bind', 'set +e');
  plan.checks.forEach((cmd, i) => {
    const base = `${results}/${i}`;
    lines.push(`{ (${cmd}) >${q(`${base}.out`)} 2>&1 </dev/null; echo $? >${q(`${base}.rc`)}; } &`);
  });
  lines.push('wait', `tail -v -n +1 -- ${plan.checks.flatMap((_, i) => [`${results}/${i}.out`, `${results}/${i}.rc`]).map(q).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Each check's output and exit code, from the script's output: tail's `==> FILE <==` headers,
 * whose path holds the nonce, so no checker output can pass for one.
 */
export function checkResults(stdout: string, count: number, nonce: string): { output: string; code: number }[] {
  const parts = stdout.split(new RegExp(`(?:^|\\n)==> ${resultsDir(nonce)}/(\\d+\\.(?:out|rc)) <==\\n`));
  const got = new Map<string, string>();
  for (let i = 1; i + 1 < parts.length; i += 2) got.set(parts[i]!, parts[i + 1]!);
  return Array.from({ length: count }, (_, i) => ({ output: got.get(`${i}.out`) ?? '', code: Number((got.get(`${i}.rc`) ?? '999').trim()) }));
}

/**
 * The command that runs a script (on stdin) in fresh mount, network and PID namespaces: the
 * view's /proc shows only the check's processes, and they all die with the script, or when
 * unshare is killed (--kill-child).
 */
export function unshareArgs(): string[] {
  return ['--mount', '--net', '--pid', '--fork', '--kill-child', '--propagation', 'private', '/bin/sh', '-s'];
}
