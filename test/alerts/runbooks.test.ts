// Every alert links to a section of docs/runbooks.md that says what it means, how to confirm it
// and what to do; every section there is an alert's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../lib/package-root.ts';
import { alertRules } from '../../lib/render/alerts/index.ts';
import { RUNBOOKS_DOC } from '../../lib/render/alerts/rule.ts';
import { loadEdited } from '../helpers/topology.ts';

const doc = readFileSync(join(PACKAGE_ROOT, RUNBOOKS_DOC), 'utf8');

/** The `## ` sections, by their anchor as GitHub and GitLab make it: lower case, punctuation dropped, spaces to hyphens. */
const sections = new Map(
  doc
    .split(/^## /m)
    .slice(1)
    .map((s) => {
      const heading = s.slice(0, s.indexOf('\n'));
      return [heading.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'), s] as const;
    }),
);

const shipped = loadEdited();
const withoutUrl = loadEdited((x) => {
  const edited = x['sites/cdn.yaml']!.replace(/^ *runbooksUrl: .*\n/m, '');
  if (edited === x['sites/cdn.yaml']) throw new Error('the shipped cdn.yaml has no monitoring.runbooksUrl to remove');
  x['sites/cdn.yaml'] = edited;
});

describe('runbooks', () => {
  it('every alert has a runbook_url into monitoring.runbooksUrl, at a section of docs/runbooks.md', () => {
    const alerts = alertRules(shipped);
    expect(alerts.length).toBeGreaterThan(15);
    const base = shipped.cdn.monitoring!.runbooksUrl!;
    for (const a of alerts) {
      const url = a.annotations.runbook_url;
      expect(url.startsWith(`${base}#`), `${a.alert}: ${url}`).toBe(true);
      expect(sections.has(url.slice(base.length + 1)), `${a.alert}: no section #${url.slice(base.length + 1)} in ${RUNBOOKS_DOC}`).toBe(true);
    }
  });

  it('without monitoring.runbooksUrl, the links are docs/runbooks.md in the checkout', () => {
    expect(alertRules(withoutUrl).map((a) => a.annotations.runbook_url)).toEqual(alertRules(shipped).map((a) => `${RUNBOOKS_DOC}#${a.alert.toLowerCase()}`));
  });

  it('each section says what the alert means, how to confirm it and what to do, and belongs to an alert', () => {
    const alerts = new Set(alertRules(shipped).map((a) => a.alert.toLowerCase()));
    expect([...sections.keys()].filter((k) => !alerts.has(k)), 'sections of no alert').toEqual([]);
    for (const [anchor, text] of sections) {
      expect(text, anchor).toContain('**Means.**');
      expect(text, anchor).toMatch(/\*\*Confirm(\.| and act\.)\*\*/);
      expect(text, anchor).toMatch(/\*\*Act\.\*\*|\*\*Confirm and act\.\*\*/);
    }
  });
});
