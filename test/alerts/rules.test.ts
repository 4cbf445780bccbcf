// The alert rules, tested by Prometheus' own `promtool test rules`: each *.yml beside this file
// is a promtool test file against anycdn-rules.yml as rendered from the shipped sites. Every
// alert must fire in at least one case and stay silent (exp_alerts: []) in at least one, and no
// case may name an alert the rules do not have (promtool would pass a silent check of a typo).
//
// A new area's alerts (lib/render/alerts/<area>.ts) get a file of their own here, <area>.yml,
// with `rule_files: [anycdn-rules.yml]`; this test picks it up.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadTopology } from '../../lib/model/load.ts';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { alertRules } from '../../lib/render/alerts/index.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { run } from '../../lib/run.ts';
import { missingBinary } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const HERE = import.meta.dirname;
const RULES = 'anycdn-rules.yml';
const FILES = readdirSync(HERE)
  .filter((f) => f.endsWith('.yml'))
  .sort();

interface TestFile {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}
const parsed = new Map(FILES.map((f) => [f, parse(readFileSync(join(HERE, f), 'utf8')) as TestFile]));

const t = loadTopology(SITES_DIR);
const alerts = alertRules(t).map((a) => a.alert);
const rules = renderPrometheus(t).find((f) => f.path === PATHS.prometheusRules)!;

const skip = missingBinary('/usr/bin/promtool', 'prometheus');
let dir = '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('alert rules under promtool test rules', () => {
  it('every test file tests the rendered rules file', () => {
    expect(FILES.length).toBeGreaterThan(0);
    for (const [f, doc] of parsed) expect(doc.rule_files, f).toEqual([RULES]);
  });

  it('every alert fires in some case and stays silent in another; no case names an unknown alert', () => {
    const cases = [...parsed.values()].flatMap((d) => d.tests.flatMap((c) => c.alert_rule_test ?? []));
    const firing = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const silent = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    expect(alerts.length).toBeGreaterThan(15);
    expect(alerts.filter((a) => !firing.has(a)), 'alerts no case fires').toEqual([]);
    expect(alerts.filter((a) => !silent.has(a)), 'alerts no case keeps silent').toEqual([]);
    expect([...new Set(cases.map((c) => c.alertname))].filter((a) => !alerts.includes(a)), 'unknown alerts').toEqual([]);
  });

  it.skipIf(skip).each(FILES)('%s passes', async (file) => {
    if (!dir) {
      dir = mkdtempSync(join(tmpdir(), 'anycdn-alerts-'));
      writeFileSync(join(dir, RULES), rules.content);
    }
    writeFileSync(join(dir, file), readFileSync(join(HERE, file), 'utf8'));
    const r = await run('/usr/bin/promtool', ['test', 'rules', join(dir, file)], { timeoutMs: 60_000 });
    expect(`${r.stdout}${r.stderr}`.trim(), `promtool test rules ${file}`).toBe(`Unit Testing:  ${join(dir, file)}\n  SUCCESS`);
    expect(r.code).toBe(0);
  });
});
