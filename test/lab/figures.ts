// The lab's measured figures: one record per metric, written as JSON for `npm run bench` to
// collect, and printed as a short table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Figure {
  scenario: string;
  metric: string;
  unit: 'ms' | 'requests' | 's' | 'req/s' | 'clients' | '%' | 'transitions' | 'routes' | 'packets';
  target: string;
  trials: number[];
  min: number;
  median: number;
  max: number;
  note?: string;
}

export const FIGURES_FILE = join(import.meta.dirname, '..', '.figures', 'lab.json');

export class Figures {
  readonly all: Figure[] = [];
  /** `name`: the JSON file's name under test/.figures/ (lab.json unless another file's scenarios). */
  constructor(private readonly name = 'lab') {}

  record(scenario: string, metric: string, unit: Figure['unit'], target: string, trials: number[], note?: string): Figure {
    const sorted = [...trials].sort((a, b) => a - b);
    const f: Figure = {
      scenario,
      metric,
      unit,
      target,
      trials,
      min: sorted[0] ?? NaN,
      median: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : NaN,
      max: sorted[sorted.length - 1] ?? NaN,
      ...(note ? { note } : {}),
    };
    this.all.push(f);
    return f;
  }

  write(file = join(FIGURES_FILE, '..', `${this.name}.json`)): void {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ measuredAt: new Date().toISOString(), figures: this.all }, null, 2)}\n`);
  }

  table(): string {
    return this.all
      .map((f) => `${f.scenario.padEnd(28)} ${f.metric.padEnd(34)} min ${f.min} / median ${f.median} / max ${f.max} ${f.unit} (n=${f.trials.length}; target ${f.target})`)
      .join('\n');
  }
}
