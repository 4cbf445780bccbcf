// The alert rules, tested by Prometheus' own `promtool test rules` (test/helpers/promtool.ts): each
// *.yml beside this file is a promtool test file against anycdn-rules.yml as rendered from the
// shipped sites. Every alert must fire in at least one case and stay silent (exp_alerts: []) in at
// least one, and no case may name an alert the rules do not have (promtool would pass a silent
// check of a typo). A firing case turned silent must fail, so the run can fail at all.
//
// A new area's alerts (lib/render/alerts/<area>.ts) get a file of their own here, <area>.yml,
// with `rule_files: [anycdn-rules.yml]`; this test picks it up.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadTopology } from '../../lib/model/load.ts';
import { alertRules } from '../../lib/render/alerts/index.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { missingBinary } from '../helpers/daemons.ts';
import { PROMTOOL, promtoolTest, RULES_FILE } from '../helpers/promtool.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const HERE = import.meta.dirname;
const FILES = readdirSync(HERE)
  .filter((f) => f.endsWith('.yml'))
  .sort();

interface AlertCase {
  alertname: string;
  exp_alerts?: unknown[];
}
interface TestFile {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: AlertCase[] }[];
}
const text = new Map(FILES.map((f) => [f, readFileSync(join(HERE, f), 'utf8')]));
const parsed = new Map([...text].map(([f, s]) => [f, parse(s) as TestFile]));

const t = loadTopology(SITES_DIR);
const alerts = alertRules(t).map((a) => a.alert);
const rules = renderPrometheus(t).find((f) => f.path === PATHS.prometheusRules)!.content;

const skip = missingBinary(PROMTOOL, 'prometheus');

describe('alert rules under promtool test rules', () => {
  it('every test file tests the rendered rules file', () => {
    expect(FILES.length).toBeGreaterThan(0);
    for (const [f, doc] of parsed) expect(doc.rule_files, f).toEqual([RULES_FILE]);
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
    const r = await promtoolTest(rules, text.get(file)!);
    expect(r.output.trim(), `promtool test rules ${file}`).toMatch(/^Unit Testing: +\S+\/test\.yml\n +SUCCESS$/);
    expect(r.ok).toBe(true);
  });

  it.skipIf(skip)('a case that expects silence where an alert fires fails', async () => {
    const doc = parsed.get('lb.yml')!;
    const flipped = structuredClone(doc);
    const c = flipped.tests.flatMap((x) => x.alert_rule_test ?? []).find((x) => (x.exp_alerts ?? []).length > 0)!;
    c.exp_alerts = [];
    const r = await promtoolTest(rules, stringify(flipped));
    expect(r.output).toContain(`alertname: ${c.alertname}`);
    expect(r.ok).toBe(false);
  });
});
