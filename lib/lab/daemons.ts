// Starting the lab's processes: a mount-namespace holder per host (its rendered tree bound at
// the real paths), each unit under a small sh supervisor that does what systemd would
// (ExecStartPre, ExecStart in the foreground, ExecStopPost after any exit, SIGKILL included),
// the routers' bird, and the origin's nginx. Every PID is recorded for teardown.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { viewLines, type FileBind } from '../check/hostview.ts';
import { secretFileAccess, type DirNeed, type UnitSpec } from '../render/index.ts';
import { shQuote } from '../render/syntax/shell.ts';
import type { RenderedFile } from '../render/types.ts';
import { LabError, startDetached, waitFor } from './exec.ts';
import type { LabUnit } from './units.ts';
import { labPaths, type LabProcess } from './state.ts';

/** Units the lab does not run, and why (printed by `lab status`). */
export const LAB_SKIPS: Record<string, string> = {
  'anycdn-secrets': 'the lab writes the BGP passwords and the ACME TSIG key itself, in place of SSM / Secrets Manager',
  'anycdn-acme': 'a timer on a real host; the lab has no ACME server until test/lab/certificates.test.ts starts one and runs it',
  'anycdn-cert-fetch': 'a timer on a real host; test/lab/certificates.test.ts runs it once the issuer has stored a certificate',
};

export interface HostStart {
  site: string;
  host: string;
  ns: string;
  files: RenderedFile[];
  units: UnitSpec[];
  /** Extra files the lab provides on the host (secrets), written inside the view, on its /run. */
  extra: { path: string; content: string }[];
  /** Files the lab adds to the host's tree, read-only like it (throwaway certificates). */
  treeFiles: { path: string; content: string }[];
  /** Directories the host's daemons need (render/catalog.ts), created on the view's tmpfs. */
  dirs: DirNeed[];
  /** The lab's /etc/hosts and CA bundle, bound over the machine's inside the host view. */
  fileBinds: FileBind[];
}

/** What a holder prints once its view is up (its log is written through the descriptor it was started with). */
const HOLDER_READY = 'anycdn: host view ready';

/**
 * Starts the holder of a host's namespaces and waits until its view is in place: the machine
 * read-only, the host's directories on tmpfs, its tree bound at its real paths
 * (lib/check/hostview.ts). The one writable path out of a view is the lab's PID directory, which
 * the supervisors write and the lab removes at `down`. The holder is PID 1 of a PID namespace of
 * the host's own, so the view's /proc shows the host's processes only (through the machine's,
 * /proc/<pid>/root of any process would lead a daemon running as root out of the view); it
 * reaps what the daemons orphan, and when it ends, on SIGTERM, every process of the host ends
 * with it. Returned is its PID on the machine, as every PID the lab records is.
 */
export async function startHolder(h: HostStart): Promise<LabProcess> {
  const tree = labPaths.tree(h.site, h.host);
  const logs = labPaths.logs(h.host);
  const stage = labPaths.view(h.host);
  for (const d of [logs, stage, labPaths.pids]) mkdirSync(d, { recursive: true });
  for (const f of h.treeFiles) {
    mkdirSync(dirname(join(tree, f.path)), { recursive: true });
    writeFileSync(join(tree, f.path), f.content, { mode: 0o600 });
  }
  const log = join(logs, 'holder.log');
  const lines = [
    'set -u',
    ...viewLines({ stage, treeDir: tree, paths: [...h.files, ...h.treeFiles].map((f) => f.path), dirs: h.dirs, fileBinds: h.fileBinds, writable: [labPaths.pids], pidNamespace: true }),
    `hostname ${shQuote(h.host)}`,
    ...h.extra.flatMap((x) => {
      // As anycdn-fetch-secrets writes it: Knot's include readable by knotd, every other secret root's alone.
      const a = secretFileAccess(x.path);
      const dir = x.path.replace(/\/[^/]*$/, '');
      const mkdir = a.dirMode === undefined ? `mkdir -p ${shQuote(dir)}` : `install -d -g ${a.group} -m ${a.dirMode.toString(8)} ${shQuote(dir)}`;
      return [mkdir, `printf '%s' ${shQuote(x.content)} > ${shQuote(x.path)}`, `chgrp ${a.group} ${shQuote(x.path)} && chmod ${a.mode.toString(8)} ${shQuote(x.path)}`];
    }),
    `echo ${shQuote(HOLDER_READY)}`,
    // An init ignores a signal it has no handler for, even from outside its namespace.
    "trap 'exit 0' TERM INT",
    'while :; do sleep 3600 & wait $!; done',
  ];
  // Its own mount, UTS and PID namespaces: the host's files at their paths, its own hostname and
  // processes. unshare forks the holder and waits for it; --kill-child ends it if unshare ends.
  const child = startDetached('ip', ['netns', 'exec', h.ns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', lines.join('\n')], log);
  const ok = await waitUntil(() => existsSync(log) && readFileSync(log, 'utf8').includes(HOLDER_READY), HOLDER_READY_MS, child);
  const init = ok.done ? children(child.pid!)[0] : undefined;
  if (!ok.done || init === undefined) throw new LabError(`lab up: host ${h.host}: the host view (mounts, fixtures) ${ok.done ? 'has no holder process' : ok.why}; last lines of ${log}: ${tail(log)}`);
  return { pid: init, ns: h.ns, owner: h.host, unit: 'holder' };
}

/** A process's children, by their PIDs on the machine. */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A process's PID in the innermost PID namespace it is in (the last of its NSpid). */
function innerPid(pid: number): number | undefined {
  try {
    const m = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]!.trim().split(/\s+/).at(-1)) : undefined;
  } catch {
    return undefined;
  }
}

/** Bounds of the waits in `up`: generous, since a busy machine is slow, and each says what it waited for. */
const HOLDER_READY_MS = 30_000;
const UNIT_PID_MS = 30_000;

/**
 * Polls `done` until it holds, the process `child` exits (then it never will), or `ms` pass.
 * `why` says which, for the error message.
 */
async function waitUntil(done: () => boolean, ms: number, child: ChildProcess): Promise<{ done: true } | { done: false; why: string }> {
  let exited: number | string | undefined;
  child.once('exit', (code, signal) => (exited = code ?? signal ?? 'unknown'));
  const r = await waitFor(async () => (done() ? 'done' : exited !== undefined ? 'exited' : undefined), ms, 20);
  if (r === 'done') return { done: true };
  if (r === 'exited' || exited !== undefined) return { done: false, why: `exited (${exited}) before it was ready` };
  return { done: false, why: `was not ready after ${ms / 1000} s` };
}

/** The supervisor script for one unit, run inside the host's view. */
export function supervisorScript(unit: LabUnit, pidFile: string): string {
  // User=/Group=/AmbientCapabilities= as systemd applies them to every Exec line: setpriv.
  const caps = unit.ambientCaps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',');
  const asUser = unit.user
    ? ['setpriv', `--reuid=${unit.user}`, `--regid=${unit.group ?? unit.user}`, '--init-groups', ...(caps ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`] : []), '--']
    : [];
  const cmd = (argv: string[]) => [...asUser, ...argv].map(shQuote).join(' ');
  const owner = unit.user ? `${unit.user}:${unit.group ?? unit.user}` : 'root:root';
  // LimitNOFILE= (or systemd's default) as systemd sets it, where this machine lets root (up to
  // fs.nr_open, with CAP_SYS_RESOURCE); else the most it grants, which preflight.ts has checked
  // covers what the daemon cannot start without (minNofile).
  const [soft, hard] = unit.limitNofile;
  const lines = [
    'set -u',
    // systemd starts a unit without the caller's TMPDIR (here a directory the view keeps read-only).
    'unset TMPDIR',
    `ulimit -n ${hard} 2>/dev/null || ulimit -n "$(cat /proc/sys/fs/nr_open)" 2>/dev/null || true`,
    `hard=$(ulimit -H -n); soft=${soft}; [ "$hard" = unlimited ] || [ "$soft" -le "$hard" ] || soft=$hard`,
    'ulimit -S -n "$soft"',
    ...(unit.minNofile !== undefined
      ? [`[ "$hard" = unlimited ] || [ "$hard" -ge ${unit.minNofile} ] || { echo "lab: ${unit.name} needs ${unit.minNofile} open files, this machine gives $hard" >&2; exit 1; }`]
      : []),
  ];
  for (const d of unit.runtimeDirs) lines.push(`mkdir -p ${shQuote(`/run/${d}`)} && chown ${owner} ${shQuote(`/run/${d}`)}`);
  for (const d of unit.stateDirs) lines.push(`mkdir -p ${shQuote(`/var/lib/${d}`)} && chown ${owner} ${shQuote(`/var/lib/${d}`)}`);
  for (const pre of unit.execStartPre) lines.push(`${cmd(pre)} || { echo ${shQuote(`lab: ExecStartPre failed: ${pre.join(' ')}`)} >&2; exit 1; }`);
  if (unit.type === 'oneshot') {
    for (const main of unit.execStart) lines.push(`${cmd(main)} || exit 1`);
    lines.push(`echo $$ > ${shQuote(pidFile)}`);
    return `${lines.join('\n')}\n`;
  }
  const main = unit.execStart[0];
  if (!main) throw new Error(`unit ${unit.name} has no ExecStart`);
  lines.push(`${cmd(main)} &`, 'main=$!', `echo "$main" > ${shQuote(pidFile)}`, 'wait "$main"', 'rc=$?');
  for (const post of unit.execStopPost) lines.push(`${cmd(post)} || true`);
  // systemd removes RuntimeDirectory= when the unit stops (stale PID files go with it).
  for (const d of unit.runtimeDirs) lines.push(`rm -rf ${shQuote(`/run/${d}`)}`);
  lines.push('exit "$rc"');
  return `${lines.join('\n')}\n`;
}

/** Starts a unit under its supervisor inside the host's namespaces; resolves with both PIDs. */
export async function startUnit(h: { host: string; ns: string }, holderPid: number, unit: LabUnit): Promise<LabProcess[]> {
  const pidFile = labPaths.pidFile(h.host, unit.name);
  mkdirSync(join(pidFile, '..'), { recursive: true });
  const log = join(labPaths.logs(h.host), `${unit.name}.log`);
  // nsenter forks the supervisor into the host's PID namespace and waits for it.
  const sup = startDetached('nsenter', ['--target', String(holderPid), '--mount', '--net', '--uts', '--pid', '--', 'sh', '-c', supervisorScript(unit, pidFile)], log);
  let mainPid: number | undefined;
  const ok = await waitUntil(
    () => {
      if (!existsSync(pidFile)) return false;
      const n = Number(readFileSync(pidFile, 'utf8').trim());
      if (!(n > 0)) return false;
      // The supervisor wrote the PID it sees, in the host's namespace; the lab keeps the
      // machine's. A oneshot's supervisor wrote its own and may have ended already.
      const supervisor = children(sup.pid!)[0];
      mainPid = supervisor === undefined ? sup.pid! : [supervisor, ...children(supervisor)].find((p) => innerPid(p) === n);
      if (mainPid !== undefined) writeFileSync(pidFile, `${mainPid}\n`);
      return mainPid !== undefined;
    },
    UNIT_PID_MS,
    sup,
  );
  if (!ok.done || !mainPid) throw new LabError(`lab up: starting units: host ${h.host}: unit ${unit.name} ${ok.done ? 'wrote no PID' : ok.why}; last lines of ${log}: ${tail(log)}`);
  return [
    { pid: sup.pid!, ns: h.ns, owner: h.host, unit: `${unit.name}:supervisor` },
    { pid: mainPid, ns: h.ns, owner: h.host, unit: unit.name },
  ];
}

export function tail(file: string, lines = 5): string {
  if (!existsSync(file)) return '(no log)';
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? '(empty log)' : text.split('\n').slice(-lines).join(' | ');
}

/** Starts bird for a lab router with the lab's own config. */
export function startRouterBird(site: string, ns: string, conf: string): LabProcess {
  const dir = labPaths.etc(`router-${site}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bird.conf'), conf);
  const logs = labPaths.logs(`router-${site}`);
  mkdirSync(logs, { recursive: true });
  const child = startDetached('ip', ['netns', 'exec', ns, 'bird', '-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl')], join(logs, 'bird.log'));
  return { pid: child.pid!, ns, owner: `router-${site}`, unit: 'bird' };
}
