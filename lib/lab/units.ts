// The lab starts each daemon exactly as its rendered unit would: the same ExecStartPre checks,
// the same ExecStart argv, the same ExecStopPost, in the After= order. It reads the units as data
// (the plan's UnitSpecs), never by parsing the unit files back. There is no systemd here;
// daemons.ts's supervisor plays its part.
import { byCodePoint } from '../model/order.ts';
import { serviceExecs, serviceValues, type UnitSpec } from '../render/index.ts';
import type { Exec } from '../render/syntax/unit.ts';

export interface LabUnit {
  name: string;
  after: string[];
  type: string;
  execStartPre: string[][];
  execStart: string[][];
  execStopPost: string[][];
  /** RuntimeDirectory= / StateDirectory= names, created before the start as systemd would. */
  runtimeDirs: string[];
  stateDirs: string[];
  /** LimitNOFILE= as [soft, hard]; systemd's default (1024:524288) when the unit sets none. */
  limitNofile: [number, number];
  /** The open files the daemon cannot start without, where the unit says (UnitSpec.minNofile). */
  minNofile?: number;
  user?: string;
  group?: string;
  ambientCaps: string[];
}

const SYSTEMD_DEFAULT_NOFILE: [number, number] = [1024, 524288];

/** A command's argv; the lab starts nothing that needs systemd's variables ($MAINPID is for reloads). */
function argv(unit: string, e: Exec): string[] {
  return e.argv.map((w) => {
    if (typeof w !== 'string') throw new Error(`lab: unit ${unit} starts a command with $${w.env}, which only systemd can fill in`);
    return w;
  });
}

export function labUnit(u: UnitSpec): LabUnit {
  const words = (key: string) => serviceValues(u, key).flatMap((v) => v.split(/\s+/).filter(Boolean));
  const execs = (key: string) => serviceExecs(u, key).map((e) => argv(u.name, e));
  const limit = serviceValues(u, 'LimitNOFILE')[0];
  const [soft, hard] = limit ? limit.split(':').map(Number) : SYSTEMD_DEFAULT_NOFILE;
  if (![soft, hard ?? soft].every((n) => Number.isSafeInteger(n) && n! > 0)) throw new Error(`internal: unit ${u.name} has LimitNOFILE=${limit}, which the lab cannot set (a count, or soft:hard)`);
  const user = serviceValues(u, 'User')[0];
  const group = serviceValues(u, 'Group')[0];
  return {
    name: u.name,
    after: u.after ?? [],
    type: serviceValues(u, 'Type')[0] ?? 'simple',
    execStartPre: execs('ExecStartPre'),
    execStart: execs('ExecStart'),
    execStopPost: execs('ExecStopPost'),
    runtimeDirs: words('RuntimeDirectory'),
    stateDirs: words('StateDirectory'),
    limitNofile: [soft!, hard ?? soft!],
    ...(u.minNofile !== undefined ? { minNofile: u.minNofile } : {}),
    ...(user ? { user } : {}),
    ...(group ? { group } : {}),
    ambientCaps: words('AmbientCapabilities'),
  };
}

/** A host's units, in start order: every unit after the units it names in After=. */
export function hostUnits(specs: UnitSpec[]): LabUnit[] {
  const units = specs.map(labUnit).sort((a, b) => byCodePoint(a.name, b.name));
  const byName = new Map(units.map((u) => [`${u.name}.service`, u]));
  const ordered: LabUnit[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (u: LabUnit) => {
    if (state.get(u.name) === 'done') return;
    if (state.get(u.name) === 'visiting') throw new Error(`unit ordering cycle at ${u.name}`);
    state.set(u.name, 'visiting');
    for (const dep of u.after) {
      const d = byName.get(dep);
      if (d) visit(d);
    }
    state.set(u.name, 'done');
    ordered.push(u);
  };
  units.forEach(visit);
  return ordered;
}
