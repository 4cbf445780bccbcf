// Evaluating the rendered alert rules with Prometheus' own engine, `promtool test rules`: a test
// file (test/alerts/*.yml, which name the rules `anycdn-rules.yml`) run against a rules file, or
// series held at fixed values (from a test table, or scraped from a real exporter in the lab) asking
// whether one alert fires and with which labels. Each run has a directory of its own, removed after.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { run } from '../../lib/run.ts';

export const PROMTOOL = '/usr/bin/promtool';
/** The name a test file's rule_files gives the rules under test. */
export const RULES_FILE = 'anycdn-rules.yml';

/** `promtool test rules` on one test file's text, with the rules written beside it as RULES_FILE. ok: promtool's exit code was 0. */
export async function promtoolTest(rulesYaml: string, testYaml: string): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'anycdn-promtool-'));
  try {
    writeFileSync(join(dir, RULES_FILE), rulesYaml);
    writeFileSync(join(dir, 'test.yml'), testYaml);
    const r = await run(PROMTOOL, ['test', 'rules', join(dir, 'test.yml')], { timeoutMs: 60_000 });
    return { ok: r.code === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition text's samples of the given metric names (no histograms, no escapes beyond \"). */
export function parseSamples(text: string, names: string[]): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !names.includes(m[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

/**
 * Whether `alertname` fires at `evalTime` given `samples` held steady from time 0 (every minute),
 * checked against `expected` (the alerts' labels and annotations, [] for none). promtool's exit code says.
 */
export async function promtoolAlerts(
  rulesYaml: string,
  samples: Sample[],
  alertname: string,
  evalTime: string,
  expected: { labels: Record<string, string>; annotations: Record<string, string> }[],
): Promise<{ ok: boolean; output: string }> {
  const series = samples.map((s) => ({
    series: `${s.name}{${Object.entries(s.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`,
    values: `${s.value}x15`,
  }));
  const test = {
    rule_files: [RULES_FILE],
    evaluation_interval: '1m',
    tests: [{ interval: '1m', input_series: series, alert_rule_test: [{ eval_time: evalTime, alertname, exp_alerts: expected.map((e) => ({ exp_labels: e.labels, exp_annotations: e.annotations })) }] }],
  };
  return promtoolTest(rulesYaml, stringify(test));
}
