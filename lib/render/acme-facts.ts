// Facts of certificate issuance (acme in cdn.yaml), computed once for every renderer: who issues,
// which name the DNS-01 challenge is answered at, and which Knot servers must answer it.
import { byCodePoint } from '../model/order.ts';
import { dnsHosts } from '../model/facts.ts';
import { servedCertPath } from './endpoints.ts';
import type { Host, Site, Topology } from '../model/schema.ts';

/** The host that runs the ACME client for the whole CDN (acme.issuer), if any. */
export function acmeIssuer(t: Topology): { site: Site; host: Host } | undefined {
  const name = t.cdn.acme?.issuer;
  for (const site of t.sites) {
    const host = site.hosts.find((h) => h.name === name);
    if (host) return { site, host };
  }
  return undefined;
}

/** The names the certificate covers: the image host. */
export function certNames(t: Topology): string[] {
  return [t.cdn.imageHost];
}

/**
 * The challenge's zone: `_acme-challenge.<imageHost>`, a zone of its own on every site's Knot,
 * delegated from dns.zone to the same name servers. Only the TXT record at its apex ever changes,
 * through the issuer's signed updates; the main zone stays exactly as rendered.
 */
export function challengeZone(t: Topology): string {
  return `_acme-challenge.${t.cdn.imageHost}`;
}

/**
 * Every Knot that may be asked for the challenge: each dns host of each site, at its own address
 * (the anycast address reaches only the nearest site, and the CA asks from several places).
 */
export function challengeServers(t: Topology): { site: string; host: string; address: string }[] {
  return t.sites
    .flatMap((s) => dnsHosts(s).map((h) => ({ site: s.id, host: h.name, address: h.address })))
    .sort((a, b) => byCodePoint(a.site, b.site) || byCodePoint(a.host, b.host));
}

/** lb hosts that serve HTTPS (an https endpoint) and fetch the certificate the issuer stores. */
export function fetchesCert(t: Topology, site: Site, host: Host): boolean {
  return t.cdn.acme !== undefined && servedCertPath(t, site, host) !== undefined;
}

/** Renew when less than a third of the lifetime is left, and never later than this: a week before the 21-day warning. */
export const RENEW_MIN_LEFT_DAYS = 28;
/** The expiry alerts: warn at 21 days left, page at 7. */
export const CERT_WARN_DAYS = 21;
export const CERT_PAGE_DAYS = 7;
