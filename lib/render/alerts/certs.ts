// The certificates haproxy serves (docs/certificates.md): anycdn_tls_cert_not_after_seconds, which
// anycdn-cert-install writes through the node exporter's textfile at every install and haproxy
// start. A warning at 21 days left, a page at 7; renewal runs at 28 days left at the latest, so the
// warning means a week of failed renewals.
import type { Topology } from '../../model/schema.ts';
import { CERT_PAGE_DAYS, CERT_WARN_DAYS, RENEW_MIN_LEFT_DAYS } from '../acme-facts.ts';
import { alert, type RuleGroup } from './rule.ts';

/** The group, with no rule when no site serves HTTPS. */
export function certsGroup(t: Topology): RuleGroup {
  if (!t.sites.some((s) => s.haproxy.https)) return { name: 'anycdn-certs', rules: [] };
  const left = 'anycdn_tls_cert_not_after_seconds - time()';
  const summary = (what: string) => `the certificate {{ $labels.path }} haproxy serves on {{ $labels.host }} ({{ $labels.site }}) expires in {{ $value | humanizeDuration }}: ${what}`;
  return {
    name: 'anycdn-certs',
    rules: [
      alert(t, 'CertificateExpiresSoon', {
        expr: `${left} < ${CERT_WARN_DAYS} * 86400 and ${left} >= ${CERT_PAGE_DAYS} * 86400`,
        for: '10m',
        severity: 'warning',
        summary: summary(`renewal has failed for a week (it renews at ${RENEW_MIN_LEFT_DAYS} days left)`),
      }),
      alert(t, 'CertificateExpiresVerySoon', { expr: `${left} < ${CERT_PAGE_DAYS} * 86400`, for: '10m', severity: 'critical', summary: summary('clients refuse HTTPS when it lapses') }),
    ],
  };
}
