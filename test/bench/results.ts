// The bench's record: every figure with min/median/max over its trials, and for a comparison the
// baseline measured in the same run beside it and the ratio of the medians. Written as
// bench/results.json and bench/RESULTS.md with the machine, the daemon versions, the date, the
// commit and the load the machine was under, and printed as a table.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Stats {
  n: number;
  /** Every trial, where the measurement kept them. */
  trials: number[];
  min: number;
  median: number;
  max: number;
}

export interface Row {
  section: string;
  what: string;
  unit: string;
  anycdn: Stats;
  /** The setup a user would otherwise pick, measured in the same run. */
  baseline?: Stats & { what: string };
  /** anycdn / baseline, or as `ratioIs` says, of the medians. */
  ratio?: number;
  ratioIs?: string;
  target?: string;
  /** Whether the target was met, where the target is a number the bench can compare. */
  met?: boolean;
  note?: string;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return { n: xs.length, trials: xs, min: s[0] ?? NaN, median: s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN, max: s[s.length - 1] ?? NaN };
}

const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000);

const roundStats = (s: Stats): Stats => ({ n: s.n, trials: s.trials.map(round), min: round(s.min), median: round(s.median), max: round(s.max) });

/** The daemons' own version lines (each daemon's -v or its equivalent), or why one is missing. */
export function daemonVersions(): Record<string, string> {
  const cmds: [string, string, string[]][] = [
    ['bird', 'bird', ['--version']],
    ['haproxy', 'haproxy', ['-v']],
    ['nginx', 'nginx', ['-v']],
    ['squid', 'squid', ['-v']],
    ['keepalived', 'keepalived', ['-v']],
    ['knot', 'knotd', ['-V']],
    ['wrk', 'wrk', ['-v']],
  ];
  const out: Record<string, string> = {};
  for (const [name, cmd, args] of cmds) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    out[name] = r.error ? `missing (${cmd} not found)` : `${r.stdout}${r.stderr}`.split('\n').find((l) => /\d+\.\d+/.test(l))?.trim() ?? 'unknown';
  }
  return out;
}

export function machine(): Record<string, string | number> {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? totalmem() / 1024);
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((memKiB / 2 ** 20) * 10) / 10,
    kernel: release(),
    node: process.version,
  };
}

export function commit(root: string): string {
  const head = spawnSync('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || 'unknown';
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim() !== '';
  return dirty ? `${head} (with uncommitted changes)` : head;
}

/** The machine's load: the 1-minute load average at the start and end, and who else ran. */
export function load(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

export class Results {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  readonly started = new Date();
  readonly loadAtStart = load();
  readonly sectionSeconds: Record<string, number> = {};

  add(row: Row): Row {
    const r: Row = { ...row, anycdn: roundStats(row.anycdn), ...(row.baseline ? { baseline: { ...roundStats(row.baseline), what: row.baseline.what } } : {}) };
    if (r.ratio !== undefined) r.ratio = round(r.ratio);
    this.rows.push(r);
    console.log(line(r));
    return r;
  }

  /** Times a section of the bench, for the breakdown of the whole run. */
  async section<T>(name: string, body: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await body();
    } finally {
      this.sectionSeconds[name] = Math.round((performance.now() - t0) / 100) / 10;
      console.log(`-- ${name}: ${this.sectionSeconds[name]} s`);
    }
  }

  write(root: string, dir: string): void {
    const record = {
      date: this.started.toISOString(),
      commit: commit(root),
      machine: machine(),
      load: { start: this.loadAtStart, end: load() },
      daemons: daemonVersions(),
      sectionSeconds: this.sectionSeconds,
      totalSeconds: Math.round((Date.now() - this.started.getTime()) / 1000),
      rows: this.rows,
      notes: this.notes,
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'results.json'), `${JSON.stringify(record, null, 2)}\n`);
    writeFileSync(join(dir, 'RESULTS.md'), markdown(record));
    console.log(`\n${table(this.rows)}\nrecorded in ${join(dir, 'results.json')} and ${join(dir, 'RESULTS.md')}`);
  }
}

const fmt = (s: Stats) => `${s.median} (${s.min}–${s.max}, n=${s.n})`;

function line(r: Row): string {
  const base = r.baseline ? `  vs ${r.baseline.what}: ${fmt(r.baseline)}  ratio ${r.ratio}${r.ratioIs ? ` (${r.ratioIs})` : ''}` : '';
  return `${r.section.padEnd(10)} ${r.what.padEnd(58)} ${fmt(r.anycdn)}${r.unit}${base}${r.target ? `  target ${r.target}${r.met === undefined ? '' : r.met ? ' met' : ' MISSED'}` : ''}`;
}

export function table(rows: Row[]): string {
  return rows.map(line).join('\n');
}

function markdown(rec: { date: string; commit: string; machine: Record<string, string | number>; load: { start: number; end: number }; daemons: Record<string, string>; sectionSeconds: Record<string, number>; totalSeconds: number; rows: Row[]; notes: string[] }): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [
    '# anycdn benchmark results',
    '',
    'Written by `npm run bench` (test/bench/run.ts). Each figure is the median of its trials with',
    'min–max and n; a comparison ran both sides in the same run, interleaved, and its ratio is of the',
    'medians. Absolute times on a shared machine are noise: read the ratios.',
    '',
    `- date: ${rec.date}`,
    `- commit: ${rec.commit}`,
    `- machine: ${rec.machine.cores} cores (${rec.machine.cpu}), ${rec.machine.memoryGiB} GiB, Linux ${rec.machine.kernel}, Node ${rec.machine.node}`,
    `- load average (1 min): ${rec.load.start} at the start, ${rec.load.end} at the end, on ${rec.machine.cores} cores`,
    ...(Math.max(rec.load.start, rec.load.end) > Number(rec.machine.cores)
      ? ['', `**Not an idle machine**: other work kept the load average above the ${rec.machine.cores} cores, so every absolute time here is inflated; the ratios of sides measured together are what this run shows.`]
      : []),
    `- daemons: ${Object.entries(rec.daemons).map(([k, v]) => `${k}: ${v}`).join('; ')}`,
    `- run time: ${rec.totalSeconds} s (${Object.entries(rec.sectionSeconds).map(([k, v]) => `${k} ${v} s`).join(', ')})`,
    '',
  ];
  for (const section of [...new Set(rec.rows.map((r) => r.section))]) {
    out.push(`## ${section}`, '', '| figure | anycdn | baseline | ratio | target |', '| --- | --- | --- | --- | --- |');
    for (const r of rec.rows.filter((x) => x.section === section)) {
      const base = r.baseline ? `${esc(r.baseline.what)}: ${fmt(r.baseline)}${r.unit}` : '';
      const target = r.target ? `${esc(r.target)}${r.met === undefined ? '' : r.met ? ' (met)' : ' (**missed**)'}` : '';
      out.push(`| ${esc(r.what)}${r.note ? `<br>_${esc(r.note)}_` : ''} | ${fmt(r.anycdn)}${r.unit} | ${base} | ${r.ratio ?? ''}${r.ratioIs ? ` ${esc(r.ratioIs)}` : ''} | ${target} |`);
    }
    out.push('');
  }
  if (rec.notes.length) out.push('## Notes', '', ...rec.notes.map((n) => `- ${n}`), '');
  return `${out.join('\n')}`;
}
