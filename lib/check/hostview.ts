// A host view: a throwaway mount namespace in which one host's rendered tree sits at its real
// paths (/etc/bird, /etc/knot, ...) over a read-only copy of the machine. Shared by `validate`
// (run.ts, with a network namespace of its own) and the lab (lib/lab/daemons.ts), so both see the
// files exactly as rendered: includes and absolute paths work.
//
// How it is built, and why this way:
// - The view's root is a tmpfs skeleton built on `stage`, a directory of the caller's covered in
//   this namespace only. Each entry of the machine's `/` is bound into it recursively (so
//   submounts, a separate /home or /var/lib/docker, come along), every one of those mounts is
//   then remounted read-only, and `pivot_root` makes the skeleton `/` and detaches the machine's
//   root. A skeleton rather than remounting the machine's mounts in place, because a host may
//   need a directory the machine does not have (a cache at /data/cache): on the skeleton that is
//   one more mountpoint, and nothing is created on the machine. An overlay would give the same,
//   but every submount would have to be bound again over it; a tmpfs over the nearest existing
//   ancestor would hide that ancestor, for /data/cache all of `/`. A directory missing deeper
//   down (/srv/cache) gets a skeleton of its nearest existing ancestor, built the same way.
// - Fresh in the view, never the machine's: /run, /tmp (mode 1777, private as with systemd's
//   PrivateTmp: knotc and knotd make their configuration database in /tmp as user knot), /dev
//   (null, zero, full, random, urandom and tty bound from the machine, a private /dev/shm: no
//   disk device is reachable, as with systemd's PrivateDevices), a tmpfs on each state directory
//   (/var/cache, /var/log, ...), and one on every directory the render lists for the host
//   (`needs.dirs`, lib/render/catalog.ts: cache paths, spools, log dirs), with its owner and mode.
// - /proc is a fresh one of the view's own PID namespace (validate's views and the lab's have
//   one), so /proc/<pid>/root cannot lead a process running as root out of the view; /sys is the
//   machine's. Both are read-only but /proc/sys/net: the view has a network namespace of its
//   own, so what a daemon sets there stays in it.
// - Everything else is read-only. A write anywhere else fails inside the view with "Read-only
//   file system", whatever a config names, and nothing the checkers bind or write reaches the
//   machine (test/lab/machine.test.ts takes a snapshot of the machine around `validate` and a
//   lab).
// - The mounts of a phase are one `mount -a` over a generated fstab: one process, not one per
//   mount, so a view costs about the same whatever the machine holds.
import { byCodePoint } from '../model/order.ts';
import { lstatSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DirNeed } from '../render/index.ts';
import { shQuote } from '../render/syntax/shell.ts';

/** State directories that get an empty tmpfs in the view (those that exist on the machine). */
export const SCRATCH_DIRS: readonly string[] = ['/var/cache', '/var/spool', '/var/log', '/var/lib/knot', '/var/lib/haproxy', '/var/lib/nginx', '/var/lib/prometheus'];

/** Device nodes the view's private /dev holds (systemd's PrivateDevices set, less the pty ones). */
const DEVICES = ['full', 'null', 'random', 'tty', 'urandom', 'zero'];
const DEV_LINKS: [name: string, target: string][] = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
];

/** A file of the caller's bound read-only over one of the machine's (/etc/hosts, the CA bundle). */
export interface FileBind {
  source: string;
  target: string;
}

export interface ViewSpec {
  /** An existing directory of the caller's on which the view's root is built; no source may lie under it. */
  stage: string;
  /** The host's tree on disk: <treeDir>/<absolute path>. */
  treeDir: string;
  /** Every absolute path present in the tree (rendered files and fixtures). */
  paths: string[];
  /** Directories the host needs, writable, with owner and mode (renderHost().needs.dirs). */
  dirs: DirNeed[];
  fileBinds?: FileBind[];
  /** The caller's own directories, bound read-write at their own paths (the lab's PID files). */
  writable?: string[];
  /** The state directories to replace by tmpfs; SCRATCH_DIRS unless a test says otherwise. */
  scratchDirs?: readonly string[];
  /**
   * The namespace has a PID namespace of its own (unshare --pid --fork): the view gets a fresh
   * /proc that shows only its processes. Without one, /proc is the machine's, read-only, and a
   * process of the view running as root could still reach the machine's root through
   * /proc/<pid>/root of a process outside the view.
   */
  pidNamespace?: boolean;
}

/** What the view needs to know of the machine, read when the script is made. */
export interface Machine {
  /** lstat of a path, or undefined when it does not exist. */
  stat(path: string): { kind: 'dir' | 'file' | 'symlink' | 'other'; mode: number; uid: number; gid: number } | undefined;
  /** Entry names of a directory, sorted. */
  list(dir: string): string[];
}

export const MACHINE: Machine = {
  stat(path) {
    try {
      const s = lstatSync(path);
      const kind = s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
      return { kind, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
    } catch {
      return undefined;
    }
  },
  list(dir) {
    try {
      return readdirSync(dir).sort(byCodePoint);
    } catch {
      return [];
    }
  },
};

/**
 * Directories a tmpfs never covers: hiding them would hide the machine (users, libraries). An
 * existing one that the host lists stays as the machine has it; rendered files are never bound
 * over one (a missing directory below one must come from its Debian package).
 */
const PROTECTED = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/sbin', '/srv', '/sys', '/usr', '/usr/lib', '/usr/local', '/var', '/var/lib']);

/** An absolute path with no empty, `.` or `..` segment: the only kind the view lets through. */
export const isNormal = (p: string) => p === '/' || (p.startsWith('/') && p.slice(1).split('/').every((x) => x !== '' && x !== '.' && x !== '..'));

const under = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/**
 * The directories to bind from the tree: each file's directory, or, where it does not exist on
 * the machine, its nearest existing ancestor (so /etc/knot/zones binds /etc/knot), unless an
 * ancestor is bound already. Directories inside the view's tmpfs (`inTmpfs`) are made there.
 */
export function bindDirs(paths: string[], exists: (dir: string) => boolean, inTmpfs: (dir: string) => boolean): string[] {
  const pick = (dir: string): string => {
    if (inTmpfs(dir)) return dir;
    let d = dir;
    while (!exists(d) && !PROTECTED.has(dirname(d))) d = dirname(d);
    return exists(d) || !PROTECTED.has(dirname(d)) ? d : dir;
  };
  const dirs = [...new Set(paths.map((p) => pick(dirname(p))))].sort((a, b) => a.length - b.length || byCodePoint(a, b));
  const chosen: string[] = [];
  for (const d of dirs) {
    if (!chosen.some((c) => under(d, c))) chosen.push(d);
  }
  return chosen.sort(byCodePoint);
}

/** A path as fstab(5) spells it: space, tab, newline and backslash in octal. */
export function fstabPath(p: string): string {
  return p.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** One mount of the view; `rank` orders mounts on the same path (see viewLines). */
interface Mount {
  source: string;
  target: string;
  type: string;
  options: string;
  rank: number;
}

export const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** What a view is made of, before it is rendered as shell (viewLines). Targets carry the stage. */
export interface ViewLayout {
  /** Refusals: the view is not built, and says why. */
  errors: string[];
  /** fstab lines: the root skeleton's entries, and the tmpfs of deeper skeletons. */
  fstab1: string[];
  /** fstab lines on top, parents first: skeleton entries, tmpfs directories, the tree, files. */
  fstab2: string[];
  /** fstab lines after everything else is read-only: /proc/sys/net and the caller's writable directories. */
  writable: string[];
  /** Empty files made to bind over (on a skeleton, after fstab1). */
  files: string[];
  /** The machine's symbolic links copied onto each skeleton: [skeleton, links]. */
  links: [string, string[]][];
  /** Directories made on the tmpfs with owner and mode, one `install` per [owner, group, mode]. */
  installs: { owner: string; group: string; mode: string; paths: string[] }[];
}

/** The view of `spec` on machine `m` (see the header): which mount goes where, and what is made. */
export function viewLayout(spec: ViewSpec, m: Machine = MACHINE): ViewLayout {
  const S = spec.stage;
  if (!/^\/[A-Za-z0-9._@+/-]*[A-Za-z0-9._@+-]$/.test(S) || !isNormal(S)) throw new Error(`internal: host view stage ${S} is not a plain absolute path`);
  const at = (p: string) => (p === '/' ? S : S + p);
  const layout: ViewLayout = { errors: [], fstab1: [], fstab2: [], writable: [], files: [], links: [], installs: [] };
  // A `..` would resolve past the view's root to the machine's: refused, before anything else.
  const odd = [...spec.dirs.map((d) => d.path), ...spec.paths, ...(spec.fileBinds ?? []).flatMap((b) => [b.source, b.target]), ...(spec.writable ?? []), spec.treeDir].filter((p) => !isNormal(p));
  if (odd.length > 0) return { ...layout, errors: [`the host view refuses paths that are not normal (., .. or an empty segment): ${[...new Set(odd)].join(', ')}`] };
  // A kernel filesystem is no place for a host's files, and a path through /proc/<pid>/root leads out.
  const kernel = [...spec.dirs.map((d) => d.path), ...spec.paths, ...(spec.fileBinds ?? []).map((b) => b.target)].filter((p) => ['/proc', '/sys', '/dev'].some((k) => under(p, k)) && !under(p, '/dev/shm'));
  if (kernel.length > 0) return { ...layout, errors: [`the host view refuses paths in /proc, /sys or /dev: ${[...new Set(kernel)].join(', ')}`] };
  const isDir = (p: string) => m.stat(p)?.kind === 'dir';
  const scratch = (spec.scratchDirs ?? SCRATCH_DIRS).filter(isDir);

  // Pass 1: the root skeleton's entries and the skeletons of deeper ancestors (their tmpfs).
  // Pass 2: everything on top. Each is ordered parents first: a mount hides what is below it.
  const pass1: Mount[] = [];
  const pass2: Mount[] = [];
  const links = new Map<string, string[]>();
  const tmpfs = (target: string, opts: string): Mount => ({ source: 'anycdn-view', target, type: 'tmpfs', options: `${opts},nosuid,nodev,X-mount.mkdir`, rank: 3 });
  const fileBind = (path: string) => {
    layout.files.push(path);
    pass2.push({ source: path, target: path, type: 'none', options: 'bind', rank: 4 });
  };
  const entries = (dir: string, into: Mount[], rank: number, skip: string[] = []) => {
    for (const name of m.list(dir)) {
      const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const st = m.stat(path);
      if (!st || skip.includes(path)) continue;
      if (st.kind === 'symlink') links.set(dir, [...(links.get(dir) ?? []), path]);
      else if (st.kind === 'dir') into.push({ source: path, target: path, type: 'none', options: 'rbind,X-mount.mkdir', rank });
      else fileBind(path);
    }
  };
  // The root: the machine's entries, but a fresh /run, /tmp and /dev (and /proc in a PID namespace).
  entries('/', pass1, 0, ['/dev', '/run', '/tmp', ...(spec.pidNamespace ? ['/proc'] : [])]);
  if (spec.pidNamespace) pass1.push({ source: 'proc', target: '/proc', type: 'proc', options: 'nosuid,nodev,noexec,X-mount.mkdir', rank: 0 });
  pass2.push(tmpfs('/tmp', 'mode=1777'), tmpfs('/dev/shm', 'mode=1777'));
  for (const dev of DEVICES) if (m.stat(`/dev/${dev}`)?.kind === 'other') fileBind(`/dev/${dev}`);
  for (const d of scratch) {
    const st = m.stat(d)!;
    pass2.push(tmpfs(d, `mode=${octal(st.mode)},uid=${st.uid},gid=${st.gid}`));
  }

  // The host's directories: on a tmpfs already, a tmpfs of their own, or a new mountpoint.
  const regions = new Set<string>(['/run', '/tmp', '/dev/shm', ...scratch]);
  const inRegion = (p: string) => [...regions].some((r) => under(p, r));
  const installs: DirNeed[] = [];
  const skeletons = new Set<string>(['/']);
  const treeBound = bindDirs(spec.paths, isDir, inRegion).filter((t) => !inRegion(t));
  for (const d of [...spec.dirs].sort((a, b) => byCodePoint(a.path, b.path))) {
    const p = d.path;
    if (inRegion(p)) {
      installs.push(d);
      continue;
    }
    const st = m.stat(p);
    if (st?.kind === 'dir') {
      // A system directory stays as the machine has it: the host writes only in listed ones below.
      if (PROTECTED.has(p)) continue;
      regions.add(p);
      pass2.push(tmpfs(p, `mode=${octal(d.mode)}`));
      installs.push(d);
      continue;
    }
    if (st) {
      layout.errors.push(`${p} is a ${st.kind === 'symlink' ? 'symbolic link' : 'file'} on this machine, not a directory; the host view cannot give it a tmpfs`);
      continue;
    }
    // Missing on the machine: a new mountpoint on a skeleton of its nearest existing ancestor,
    // unless the rendered tree binds that ancestor whole (its directory in the tree takes the
    // mountpoint; a skeleton's machine entries would be bound over the tree's files).
    let parent = dirname(p);
    while (!isDir(parent)) parent = dirname(parent);
    if (treeBound.some((t) => under(parent, t))) {
      const inTree = `${parent === '/' ? '' : parent}/${p.slice(parent.length + (parent === '/' ? 0 : 1)).split('/')[0]}`;
      regions.add(inTree);
      pass2.push({ ...tmpfs(inTree, `mode=${inTree === p ? octal(d.mode) : '0755'}`), rank: 5 });
      installs.push(d);
      continue;
    }
    if (!skeletons.has(parent)) {
      const outer = [...skeletons].find((x) => x !== '/' && under(parent, x));
      if (outer) {
        layout.errors.push(`${p} needs a skeleton of ${parent} inside the skeleton of ${outer}; the host view builds one level`);
        continue;
      }
      const pst = m.stat(parent)!;
      skeletons.add(parent);
      pass1.push({ source: 'anycdn-skeleton', target: parent, type: 'tmpfs', options: `mode=${octal(pst.mode)},uid=${pst.uid},gid=${pst.gid}`, rank: 1 });
      entries(parent, pass2, 2);
    }
    const first = `${parent === '/' ? '' : parent}/${p.slice(parent.length + (parent === '/' ? 0 : 1)).split('/')[0]}`;
    regions.add(first);
    pass2.push(tmpfs(first, `mode=${first === p ? octal(d.mode) : '0755'}`));
    installs.push(d);
  }

  // The rendered tree at its real paths, and the caller's files over the machine's.
  for (const dir of bindDirs(spec.paths, isDir, inRegion)) {
    if (!inRegion(dir) && !isDir(dir)) layout.errors.push(`${dir} does not exist on this machine; install the package that owns it`);
    pass2.push({ source: spec.treeDir + dir, target: dir, type: 'none', options: inRegion(dir) ? 'bind,X-mount.mkdir' : 'bind', rank: 4 });
  }
  for (const b of spec.fileBinds ?? []) {
    const st = m.stat(b.target);
    if (!st && under(b.target, '/run')) layout.files.push(b.target);
    else if (st?.kind !== 'file') layout.errors.push(`cannot bind ${b.target}: it is not a file on this machine`);
    pass2.push({ source: b.source, target: b.target, type: 'none', options: 'bind', rank: 5 });
  }

  const fstab = (ms: Mount[]) =>
    ms.sort((a, b) => byCodePoint(a.target, b.target) || a.rank - b.rank).map((x) => `${fstabPath(x.source)} ${fstabPath(at(x.target))} ${x.type} ${x.options} 0 0`);
  layout.fstab1 = fstab(pass1);
  layout.fstab2 = fstab(pass2);
  layout.writable = fstab([
    ...(isDir('/proc/sys/net') ? [{ source: '/proc/sys/net', target: '/proc/sys/net', type: 'none', options: 'bind', rank: 0 }] : []),
    ...(spec.writable ?? []).map((w) => ({ source: w, target: w, type: 'none', options: 'bind,X-mount.mkdir', rank: 0 })),
  ]);
  layout.links = [...links.entries()].sort((a, b) => byCodePoint(a[0], b[0]));
  layout.files = layout.files.map(at);
  const groups = new Map<string, string[]>();
  for (const d of installs) {
    const key = `${d.owner}\t${d.group}\t${octal(d.mode)}`;
    groups.set(key, [...(groups.get(key) ?? []), at(d.path)]);
  }
  layout.installs = [...groups.entries()].sort((a, b) => byCodePoint(a[0], b[0])).map(([key, paths]) => {
    const [owner, group, mode] = key.split('\t') as [string, string, string];
    return { owner, group, mode, paths };
  });
  return layout;
}

/**
 * Shell lines that turn a fresh private mount namespace into the host's view and enter it
 * (pivot_root): the caller's lines that follow run inside the view, with `/` read-only but for
 * the tmpfs directories. Defines `fail` (exit 97 with a message) for the lines that follow.
 */
export function viewLines(spec: ViewSpec, m: Machine = MACHINE): string[] {
  const q = shQuote;
  const S = spec.stage;
  const v = viewLayout(spec, m);
  const fail = 'fail() { echo "anycdn: $*" >&2; exit 97; }';
  if (v.errors.length > 0) return [fail, `fail ${q(v.errors.join('; '))}`];
  const dir = `${S}/run/anycdn-view`;
  const write = (file: string, lines: string[], op = '>') => `printf '%s\\n' ${lines.map(q).join(' ')} ${op} ${q(`${dir}/${file}`)}`;
  const mountAll = (file: string, what: string) => `mount -a -T ${q(`${dir}/${file}`)} || fail ${q(`cannot build the host view: ${what}`)}`;
  const lines = [
    fail,
    `mount -t tmpfs -o mode=${octal(m.stat('/')?.mode ?? 0o755)},unbindable anycdn-skeleton ${q(S)} || fail ${q(`cannot mount the host view's root on ${S}`)}`,
    `mount -t tmpfs -o mode=0755,nosuid,nodev,X-mount.mkdir anycdn-view ${q(`${S}/run`)} || fail "cannot mount the host view's /run"`,
    `mkdir ${q(`${S}/dev`)} ${q(dir)} || fail "cannot make the host view's /dev"`,
    write('fstab1', v.fstab1),
    mountAll('fstab1', 'the read-only copy of the machine'),
  ];
  // Onto the skeletons: mountpoints for files, the machine's symlinks, /dev's links.
  if (v.files.length > 0) lines.push(`{ ${v.files.map((f) => `: > ${q(f)}`).join(' && ')}; } || fail "cannot make the host view's mountpoints"`);
  for (const [skel, own] of v.links) lines.push(`cp -P -- ${own.map(q).join(' ')} ${q(skel === '/' ? S : S + skel)}/ || fail ${q(`cannot copy the symbolic links of ${skel}`)}`);
  lines.push(`{ ${DEV_LINKS.map(([name, target]) => `ln -s ${q(target)} ${q(`${S}/dev/${name}`)}`).join(' && ')}; } || fail "cannot make the host view's /dev"`);
  lines.push(write('fstab2', v.fstab2), mountAll('fstab2', "the host's directories and rendered files"));
  // Read-only: every mount of the view (the root skeleton and the mounts below it, by parent id,
  // so a machine's mount hidden under the stage is left alone) but the view's own tmpfs
  // directories (source anycdn-view, at their root). Then the writable ones, on top.
  lines.push(
    'ids=',
    'while read -r id parent _ root mp opts rest; do',
    `\tif [ "$mp" = ${q(S)} ]; then case $rest in *"- tmpfs anycdn-skeleton "*) ids=" " ;; esac; fi`,
    '\tcase $ids in "") continue ;; " ") ;; *" $parent "*) ;; *) continue ;; esac',
    '\tids="$ids$id "',
    '\tcase $rest in *"- tmpfs anycdn-view "*) [ "$root" = / ] && continue ;; esac',
    `\tcase $opts in rw*) printf 'none %s none remount,bind,ro%s 0 0\\n' "$mp" "\${opts#rw}" ;; esac`,
    `done < /proc/self/mountinfo > ${q(`${dir}/fstab3`)}`,
    ...(v.writable.length > 0 ? [write('fstab3', v.writable, '>>')] : []),
    mountAll('fstab3', 'read-only'),
  );
  // install sets owner and mode on existing directories too.
  for (const g of v.installs) lines.push(`install -d -o ${q(g.owner)} -g ${q(g.group)} -m ${g.mode} ${g.paths.map(q).join(' ')} || fail ${q(`cannot create ${g.paths.map((p) => p.slice(S.length)).join(' ')}`)}`);
  lines.push(
    `cd ${q(S)} && pivot_root . . && umount -l . && cd / || fail "cannot enter the host view (pivot_root)"`,
    // As systemd starts a unit: no TMPDIR of the caller's (a directory the view keeps read-only).
    'unset TMPDIR',
  );
  return lines;
}
