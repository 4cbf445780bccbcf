// What `lab up` needs of this machine, checked in one place before anything is created: root,
// network and mount namespaces, veth pairs and bridges, every program the lab and the hosts' units
// start, the file limit each unit asks for, the sysctls set inside the namespaces, and that no lab
// is up already. Every problem is one line that says what to fix, all of them at once.
//
// labNeeds() and preflightProblems() are pure; machineFacts() is the only part that looks at the
// machine: it reads /proc, searches PATH, lists network namespaces, and runs one probe in a
// throwaway network namespace of its own (unshare), which ends with the probe and leaves nothing.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Topology } from '../model/schema.ts';
import { nofileSource, unitPackages, type HostPlan, type NofileSource } from '../render/index.ts';
import { shQuote } from '../render/syntax/shell.ts';
import { run } from '../run.ts';
import { LAB_SKIPS } from './daemons.ts';
import { labNamespaces, ROUTER_SYSCTLS, sysctlPath, sysctlSettings } from './network.ts';
import { NS_PREFIX } from './plan.ts';
import { LAB_DIR } from './state.ts';
import { hostUnits } from './units.ts';

/** A program the lab runs: a name looked up in PATH, or an absolute path. */
export interface ProgramNeed {
  program: string;
  packages: string[];
  /** Who runs it, for the message: "the lab routers", "haproxy on ams-lb1, ams-lb2". */
  users: string[];
}

export interface LabNeeds {
  programs: ProgramNeed[];
  /**
   * The hard file limit (LimitNOFILE=) each unit asks for, and the open files its daemon cannot
   * start without where the unit says (UnitSpec.minNofile), with the hosts that run it.
   */
  nofile: NofileNeed[];
  /** Sysctls the lab sets inside its network namespaces, with who sets them. */
  sysctls: { key: string; users: string[] }[];
}

export interface NofileNeed {
  unit: string;
  hard: number;
  min?: number;
  hosts: string[];
  /** The model field `min` follows, and the sites whose field it is. */
  from?: NofileSource;
  sites: string[];
}

/** The lab's own tools, and what each is for. */
const LAB_PROGRAMS: { program: string; packages: string[]; user: string }[] = [
  { program: 'ip', packages: ['iproute2'], user: 'the lab network (ip netns, veth, bridges)' },
  { program: 'unshare', packages: ['util-linux'], user: 'the host views' },
  { program: 'nsenter', packages: ['util-linux'], user: 'the host views' },
  { program: 'mount', packages: ['mount'], user: 'the host views' },
  { program: 'pivot_root', packages: ['util-linux'], user: 'the host views' },
  { program: 'setpriv', packages: ['util-linux'], user: 'units with User=' },
  { program: 'bird', packages: ['bird2'], user: 'the lab routers' },
  { program: 'nft', packages: ['nftables'], user: "the lab routers (a multihop peer's hop count)" },
  { program: 'nginx', packages: ['nginx'], user: 'the lab origin' },
  { program: 'openssl', packages: ['openssl'], user: "the lab origin's certificate" },
  { program: 'kdig', packages: ['knot-dnsutils'], user: 'lab status (DNS answers)' },
  { program: 'curl', packages: ['curl'], user: 'lab status (the VIPs)' },
];

/** Debian packages of the system tools units call, where the unit's own package is not the one. */
const TOOL_PACKAGES: Record<string, string> = {
  '/bin/sh': 'dash',
  '/bin/mkdir': 'coreutils',
  '/usr/sbin/ip': 'iproute2',
  '/usr/sbin/sysctl': 'procps',
  '/usr/sbin/nft': 'nftables',
  '/usr/bin/node': 'nodejs',
};

/** Everything the lab of these host plans needs of the machine (pure). */
export function labNeeds(plans: HostPlan[], t: Topology): LabNeeds {
  const programs = new Map<string, ProgramNeed>();
  const need = (program: string, packages: string[], user: string) => {
    const p = programs.get(program) ?? { program, packages, users: [] };
    if (!p.users.includes(user)) p.users.push(user);
    programs.set(program, p);
  };
  for (const p of LAB_PROGRAMS) need(p.program, p.packages, p.user);
  const nofile = new Map<string, NofileNeed>();
  const sysctls = new Map<string, string[]>(ROUTER_SYSCTLS.map((k) => [k, ['the lab routers']]));
  for (const plan of plans) {
    const rendered = new Set(plan.files.map((f) => f.path));
    for (const u of hostUnits(plan.units).filter((x) => !LAB_SKIPS[x.name])) {
      for (const argv of [...u.execStartPre, ...u.execStart, ...u.execStopPost]) {
        const program = argv[0]!;
        // The host's own rendered scripts are bound into its view; the machine need not have them.
        if (rendered.has(program)) continue;
        const tool = TOOL_PACKAGES[program];
        need(program, tool ? [tool] : unitPackages(u.name), `unit ${u.name}`);
      }
      const key = `${u.name}:${u.limitNofile[1]}:${u.minNofile}`;
      const n = nofile.get(key) ?? { unit: u.name, hard: u.limitNofile[1], ...(u.minNofile !== undefined ? { min: u.minNofile } : {}), hosts: [], sites: [] };
      const site = t.sites.find((s) => s.id === plan.site);
      const from = site ? nofileSource(site, u.name) : undefined;
      if (from && u.minNofile !== undefined) n.from = from;
      n.hosts.push(plan.host);
      if (!n.sites.includes(plan.site)) n.sites.push(plan.site);
      nofile.set(key, n);
    }
    for (const s of sysctlSettings(plan.files)) {
      const who = `${s.file} on ${plan.host}`;
      const users = sysctls.get(s.key) ?? [];
      if (!users.includes(who)) users.push(who);
      sysctls.set(s.key, users);
    }
  }
  return {
    programs: [...programs.values()],
    nofile: [...nofile.values()].sort((a, b) => (b.min ?? 0) - (a.min ?? 0) || b.hard - a.hard || a.unit.localeCompare(b.unit)),
    sysctls: [...sysctls].map(([key, users]) => ({ key, users })),
  };
}

/** What preflight learns of the machine. */
export interface MachineFacts {
  platform: string;
  uid: number | undefined;
  /** The programs of LabNeeds that are there (found in PATH, or executable at their path). */
  present: Set<string>;
  /** fs.nr_open: the most open files any process may have. */
  nrOpen: number;
  /** This process's hard RLIMIT_NOFILE, and whether it may raise it (CAP_SYS_RESOURCE). */
  nofileHard: number;
  canRaiseNofile: boolean;
  /**
   * The probe in a throwaway namespace: whether it could make network, mount and UTS namespaces,
   * a veth pair and a bridge, and which sysctls are writable there. Undefined without root.
   */
  probe?: { namespaces: boolean; veth: boolean; bridge: boolean; writable: Set<string>; error: string };
  /** Lab namespaces that exist now, and whether the lab's state directory does. */
  leftovers: string[];
  labDir: boolean;
}

const list = (xs: string[], max = 3) => (xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`);

/** One line per problem, each saying what to fix; empty when the lab can run here (pure). */
export function preflightProblems(needs: LabNeeds, m: MachineFacts): string[] {
  const out: string[] = [];
  if (m.platform !== 'linux') return ['lab: needs Linux (network namespaces, veth, bridges); run it on a Linux machine'];
  if (m.uid !== 0) out.push('lab: needs root (network namespaces, veth pairs, mounts): run it as root');
  if (m.leftovers.length > 0 || m.labDir) {
    out.push(`lab: a lab is already up or half-built (${m.leftovers.length} ${NS_PREFIX}* namespaces${m.labDir ? `, state in ${LAB_DIR}` : ''}): run \`anycdn lab down\` first`);
  }
  for (const p of needs.programs.filter((x) => !m.present.has(x.program))) {
    const fix = p.packages.length > 0 ? `install it with \`apt-get install ${p.packages.join(' ')}\`` : 'install it';
    out.push(`lab: ${p.program} is missing (for ${list(p.users)}): ${fix}`);
  }
  // Root may give a unit any file limit up to fs.nr_open (setrlimit with CAP_SYS_RESOURCE), as
  // systemd does for LimitNOFILE=; without that capability, no more than its own hard limit. A
  // daemon that needs more than that cannot run here. (Without root, the line above says it all.)
  const ceiling = nofileCeiling(m);
  const [most, ...more] = m.uid === 0 ? needs.nofile.filter((x) => (x.min ?? 0) > ceiling) : [];
  if (most) {
    const also = more.length > 0 ? ` (and ${list(more.map((x) => `${x.unit} ${x.min}`))})` : '';
    const who = `${most.unit} on ${list(most.hosts)} cannot start with fewer than ${most.min} open files${also}`;
    const fix = [
      ...(most.min! > m.nrOpen ? [`raise fs.nr_open (${m.nrOpen} here, the most any process may open) with \`sysctl -w fs.nr_open=${most.min}\``] : []),
      ...(!m.canRaiseNofile && most.min! > m.nofileHard ? [`run the lab with CAP_SYS_RESOURCE (this root lacks it, so ${m.nofileHard}, its own hard limit, is the most it can give)`] : []),
    ];
    // Or ask less of the machine: the model field the need follows, at the most that fits.
    const from = most.from;
    const fits = from ? Math.floor((ceiling - from.base) / from.perUnit) : 0;
    const lower = from && fits >= 1 ? `, or lower ${from.field} of ${most.sites.length === 1 ? 'site' : 'sites'} ${list(most.sites)} from ${from.value} to ${fits} in a copy of the model for the lab` : '';
    out.push(`lab: ${who}, and this machine gives at most ${ceiling}: ${fix.join(', and ')}${lower}`);
  }
  // Only network-namespace settings: anything else would change the machine itself.
  for (const s of needs.sysctls.filter((x) => !x.key.startsWith('net.'))) {
    out.push(`lab: ${s.key} (set by ${list(s.users)}) is the machine's own setting, not a network namespace's: the lab changes no setting of the machine; set it on the machine yourself, or leave it out of the model`);
  }
  if (m.uid === 0 && m.probe) {
    if (!m.probe.namespaces) {
      out.push(`lab: cannot create network, mount and PID namespaces here (${m.probe.error || 'unshare failed'}): run it on a kernel with network namespaces, in a container allowed to create them (privileged)`);
    } else {
      if (!m.probe.veth) out.push('lab: this kernel cannot create veth pairs (ip link add type veth failed): load the veth module (`modprobe veth`) or use a kernel with CONFIG_VETH');
      if (!m.probe.bridge) out.push('lab: this kernel cannot create bridges (ip link add type bridge failed): load the bridge module (`modprobe bridge`) or use a kernel with CONFIG_BRIDGE');
      for (const s of needs.sysctls.filter((x) => x.key.startsWith('net.') && !m.probe!.writable.has(x.key))) {
        out.push(`lab: ${s.key} (set by ${list(s.users)}) cannot be set inside a network namespace on this kernel (${sysctlPath(s.key)}): run the lab on a kernel that keeps it per network namespace`);
      }
    }
  }
  return out;
}

/** The most open files the lab can give a daemon here: fs.nr_open, or without CAP_SYS_RESOURCE its own hard limit. */
export function nofileCeiling(m: Pick<MachineFacts, 'nrOpen' | 'nofileHard' | 'canRaiseNofile'>): number {
  return m.canRaiseNofile ? m.nrOpen : Math.min(m.nofileHard, m.nrOpen);
}

/**
 * What the lab will give less of than the units ask, as one line for `lab up` to show (undefined
 * when it gives every unit its LimitNOFILE=): systemd would give them all, and a real host must.
 */
export function nofileNote(needs: LabNeeds, m: MachineFacts): string | undefined {
  const ceiling = nofileCeiling(m);
  const short = needs.nofile.filter((x) => x.hard > ceiling);
  if (short.length === 0) return undefined;
  const asked = Math.max(...short.map((x) => x.hard));
  const why = m.canRaiseNofile ? `fs.nr_open is ${m.nrOpen}` : `this root lacks CAP_SYS_RESOURCE, its hard limit is ${m.nofileHard}`;
  const mins = needs.nofile.filter((x) => x.min !== undefined).map((x) => `${x.unit} ${x.min}`);
  return `file limits: units ask for up to LimitNOFILE=${asked}, and this machine gives at most ${ceiling} (${why}); enough for what their daemons need${mins.length > 0 ? ` (${list([...new Set(mins)])})` : ''}`;
}

/** Whether `program` runs here: an absolute path that is executable, or a name found in PATH. */
function present(program: string): boolean {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (program.startsWith('/')) return executable(program);
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).some((d) => d !== '' && executable(join(d, program)));
}

function readNumber(file: string, fallback: number): number {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : fallback;
  } catch {
    return fallback;
  }
}

/** This process's hard RLIMIT_NOFILE, from /proc/self/limits. */
function nofileHard(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    return hard === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(hard) || 0;
  } catch {
    return 0;
  }
}

/** Whether this process has CAP_SYS_RESOURCE (bit 24 of CapEff), which lets it raise a hard limit. */
function hasSysResource(): boolean {
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 24n)) !== 0n;
  } catch {
    return false;
  }
}

/**
 * The probe: one shell in new network, mount, UTS and PID namespaces of its own (gone when it exits),
 * making a veth pair and a bridge there and testing each sysctl for writing.
 */
async function probe(sysctls: string[]): Promise<NonNullable<MachineFacts['probe']>> {
  const lines = [
    'ip link add acdn-pf0 type veth peer name acdn-pf1 >/dev/null 2>&1 && echo veth',
    'ip link add acdn-pfbr type bridge >/dev/null 2>&1 && echo bridge',
    ...sysctls.map((k) => `[ -w ${shQuote(sysctlPath(k))} ] && echo ${shQuote(`sysctl ${k}`)}`),
    'echo done',
  ];
  const r = await run('unshare', ['--net', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', `${lines.join('\n')}\n`], { timeoutMs: 10_000 });
  const said = new Set(r.stdout.split('\n').map((l) => l.trim()));
  const namespaces = said.has('done');
  return {
    namespaces,
    veth: said.has('veth'),
    bridge: said.has('bridge'),
    writable: new Set(sysctls.filter((k) => said.has(`sysctl ${k}`))),
    error: namespaces ? '' : (r.stderr.trim().split('\n')[0] ?? ''),
  };
}

/** This machine's file limits: fs.nr_open, this process's hard limit, and whether it may raise it. */
export function fileLimitFacts(): Pick<MachineFacts, 'nrOpen' | 'nofileHard' | 'canRaiseNofile'> {
  return { nrOpen: readNumber('/proc/sys/fs/nr_open', 1_048_576), nofileHard: nofileHard(), canRaiseNofile: hasSysResource() };
}

/** Looks at the machine for what `needs` asks (see the header). */
export async function machineFacts(needs: LabNeeds): Promise<MachineFacts> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const linux = process.platform === 'linux';
  const has = new Set(needs.programs.map((p) => p.program).filter(present));
  const canProbe = linux && uid === 0 && has.has('unshare') && has.has('ip');
  return {
    platform: process.platform,
    uid,
    present: has,
    ...fileLimitFacts(),
    ...(canProbe ? { probe: await probe(needs.sysctls.filter((s) => s.key.startsWith('net.')).map((s) => s.key)) } : {}),
    leftovers: linux && has.has('ip') ? await labNamespaces(NS_PREFIX).catch(() => []) : [],
    labDir: existsSync(LAB_DIR),
  };
}

/**
 * Every problem that keeps the lab of these host plans from running here (empty when none does),
 * and what the lab gives less of than a real host would, for `up` to say.
 */
export async function preflight(plans: HostPlan[], t: Topology): Promise<{ problems: string[]; notes: string[] }> {
  const needs = labNeeds(plans, t);
  const facts = await machineFacts(needs);
  const problems = preflightProblems(needs, facts);
  const note = problems.length === 0 ? nofileNote(needs, facts) : undefined;
  return { problems, notes: note ? [note] : [] };
}
