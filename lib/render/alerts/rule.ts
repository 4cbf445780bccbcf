// The shape of Prometheus rules as anycdn writes them: recording rules that name a computation
// once, and alerts that each carry a severity, a one-line summary and a runbook_url into
// docs/runbooks.md (the section named after the alert). Pure data; prometheus.ts emits the YAML.
import type { Topology } from '../../model/schema.ts';

export type Severity = 'critical' | 'warning';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity };
  annotations: { summary: string; runbook_url: string };
}

export interface RecordingRule {
  record: string;
  expr: string;
}

export type Rule = AlertRule | RecordingRule;

/** One rule group: Prometheus evaluates a group's rules in order, so records come before the alerts that read them. */
export interface RuleGroup {
  name: string;
  rules: Rule[];
}

/** The runbooks, in the repository; monitoring.runbooksUrl says where a team publishes them. */
export const RUNBOOKS_DOC = 'docs/runbooks.md';

/** The section of docs/runbooks.md an alert links to: its heading (`## AlertName`) as a Markdown anchor. */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

export function runbookUrl(t: Topology, alert: string): string {
  return `${t.cdn.monitoring?.runbooksUrl ?? RUNBOOKS_DOC}#${runbookAnchor(alert)}`;
}

/** An expression written over several lines (PromQL ignores the line breaks; the rules file shows them). */
export const lines = (...parts: string[]): string => parts.join('\n');

export function alert(t: Topology, name: string, a: { expr: string; for: string; severity: Severity; summary: string }): AlertRule {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`internal: alert name ${JSON.stringify(name)} is not CamelCase`);
  return { alert: name, expr: a.expr, for: a.for, labels: { severity: a.severity }, annotations: { summary: a.summary, runbook_url: runbookUrl(t, name) } };
}

export function record(name: string, expr: string): RecordingRule {
  if (!/^[a-z_]+:[a-z0-9_]+(:[a-z0-9_]+)?$/.test(name)) throw new Error(`internal: recording rule ${JSON.stringify(name)} is not level:metric:operations`);
  return { record: name, expr };
}

export const isAlert = (r: Rule): r is AlertRule => 'alert' in r;
