// Reads the rendered systemd units of a host, so the lab starts each daemon exactly as the unit
// would: same ExecStartPre checks, same ExecStart binary and flags, same ExecStopPost, in the
// After= order. There is no systemd here; lib/lab/supervise.ts plays its part.
import { byCodePoint } from '../model/order.ts';
import type { RenderedFile } from '../render/types.ts';

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
  user?: string;
  group?: string;
  ambientCaps: string[];
}

const SYSTEMD_DEFAULT_NOFILE: [number, number] = [1024, 524288];

export function parseUnit(name: string, text: string): LabUnit {
  const unit: LabUnit = { name, after: [], type: 'simple', execStartPre: [], execStart: [], execStopPost: [], runtimeDirs: [], stateDirs: [], limitNofile: SYSTEMD_DEFAULT_NOFILE, ambientCaps: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'After') unit.after.push(...value.split(/\s+/).filter(Boolean));
    else if (key === 'Type') unit.type = value;
    else if (key === 'ExecStartPre') unit.execStartPre.push(splitCommand(value));
    else if (key === 'ExecStart') unit.execStart.push(splitCommand(value));
    else if (key === 'ExecStopPost') unit.execStopPost.push(splitCommand(value));
    else if (key === 'RuntimeDirectory') unit.runtimeDirs.push(...value.split(/\s+/).filter(Boolean));
    else if (key === 'User') unit.user = value;
    else if (key === 'Group') unit.group = value;
    else if (key === 'AmbientCapabilities') unit.ambientCaps.push(...value.split(/\s+/).filter(Boolean));
    else if (key === 'LimitNOFILE') {
      const [soft, hard] = value.split(':').map(Number);
      unit.limitNofile = [soft!, hard ?? soft!];
    } else if (key === 'StateDirectory') unit.stateDirs.push(...value.split(/\s+/).filter(Boolean));
  }
  return unit;
}

/** systemd's command-line splitting, for the quoting our units use: "..." and '...' words. */
export function splitCommand(value: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  const v = value.replace(/^[-@:+!]+/, ''); // exec prefixes (ignore-failure etc.)
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && i + 1 < v.length) cur += v[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in unit command: ${value}`);
  if (inWord) words.push(cur);
  return words;
}

/** The host's units, in start order: every unit after the units it names in After=. */
export function hostUnits(files: RenderedFile[]): LabUnit[] {
  const units = files
    .filter((f) => f.path.startsWith('/etc/systemd/system/') && f.path.endsWith('.service'))
    .map((f) => parseUnit(f.path.replace(/^.*\//, '').replace(/\.service$/, ''), f.content))
    .sort((a, b) => byCodePoint(a.name, b.name));
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
