// The certificate-expiry alerts, evaluated by Prometheus's own rule engine (`promtool test rules`,
// through test/helpers/promtool.ts) on the rules render writes for the shipped sites: a
// certificate 30 days from expiry is quiet, 20 days warns, 6 days pages, each with the runbook
// link; and a test expecting the wrong alert fails, so these tests can fail.
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../lib/model/load.ts';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { runbookUrl } from '../../lib/render/alerts/rule.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { missingBinary } from '../helpers/daemons.ts';
import { promtoolAlerts, type Sample } from '../helpers/promtool.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const DAY = 86400;
const PATH = '/etc/haproxy/certs/img.cdn.example.net.pem';
const t = loadTopology(SITES_DIR);
const rules = renderPrometheus(t).find((f) => f.path === PATHS.prometheusRules)!.content;
const runbook = (alert: string) => runbookUrl(t, alert);
const at = { path: PATH, site: 'ams', host: 'ams-lb1', job: 'node', instance: '198.51.100.11:9100' };

/** The series as node-exporter's textfile collector serves it from ams-lb1: notAfter `daysLeft` days after time 0. */
const notAfter = (daysLeft: number): Sample[] => [{ name: 'anycdn_tls_cert_not_after_seconds', labels: at, value: daysLeft * DAY }];
const EVAL = '15m';

const summary = (days: string, what: string) => `the certificate ${PATH} haproxy serves on ams-lb1 (ams) expires in ${days}: ${what}`;

describe.skipIf(missingBinary('/usr/bin/promtool', 'prometheus'))('certificate expiry alerts (promtool test rules)', () => {
  const quiet = async (alertname: string, daysLeft: number) => {
    const r = await promtoolAlerts(rules, notAfter(daysLeft), alertname, EVAL, []);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok).toBe(true);
  };

  it('30 days left: neither alert', async () => {
    await quiet('CertificateExpiresSoon', 30);
    await quiet('CertificateExpiresVerySoon', 30);
  });

  it('20 days left: a warning with the runbook, no page', async () => {
    const r = await promtoolAlerts(rules, notAfter(20), 'CertificateExpiresSoon', EVAL, [
      { labels: { ...at, severity: 'warning' }, annotations: { summary: summary('19d 23h 45m 0s', 'renewal has failed for a week (it renews at 28 days left)'), runbook_url: runbook('CertificateExpiresSoon') } },
    ]);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok).toBe(true);
    await quiet('CertificateExpiresVerySoon', 20);
  });

  it('6 days left: a page with the runbook, and no warning beside it', async () => {
    const r = await promtoolAlerts(rules, notAfter(6), 'CertificateExpiresVerySoon', EVAL, [
      { labels: { ...at, severity: 'critical' }, annotations: { summary: summary('5d 23h 45m 0s', 'clients refuse HTTPS when it lapses'), runbook_url: runbook('CertificateExpiresVerySoon') } },
    ]);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok).toBe(true);
    await quiet('CertificateExpiresSoon', 6);
  });

  it('a test expecting the warning at 6 days fails: the check can fail', async () => {
    const r = await promtoolAlerts(rules, notAfter(6), 'CertificateExpiresSoon', EVAL, [{ labels: { ...at, severity: 'warning' }, annotations: {} }]);
    expect(r.output).toContain('FAILED');
    expect(r.ok).toBe(false);
  });
});

describe('certificate alert runbook', () => {
  it('each links to its section of the runbooks, which points to the certificates doc', () => {
    expect(runbook('CertificateExpiresSoon')).toBe('https://git.example.net/cdn/anycdn/-/blob/main/docs/runbooks.md#certificateexpiressoon');
    expect(runbook('CertificateExpiresVerySoon')).toBe('https://git.example.net/cdn/anycdn/-/blob/main/docs/runbooks.md#certificateexpiresverysoon');
  });
});
