// acme: the issuer is a host of the model, some site serves HTTPS (else nothing would use the
// certificate), and no lb host fetches the certificate from the very file haproxy serves.
import type { Rule } from './types.ts';

export const acme: Rule = (t, report) => {
  const a = t.cdn.acme;
  if (!a) return;
  const hosts = t.sites.flatMap((s) => s.hosts.map((h) => h.name));
  if (!hosts.includes(a.issuer)) {
    const hint = hosts.length > 0 ? `; name one of the model's hosts, such as ${[...hosts].sort()[0]}` : '';
    report(null, ['acme', 'issuer'], `acme.issuer: ${a.issuer} is no host of the model${hint}`);
  }
  const https = t.sites.filter((s) => s.haproxy.https);
  if (https.length === 0) report(null, ['acme'], 'acme: no site has haproxy.https, so no lb host would serve the certificate; add haproxy.https to the sites that serve HTTPS, or remove acme');
  for (const site of https) {
    const certPath = site.haproxy.https!.certPath;
    if (a.certRef === `file:${certPath}`) {
      report(null, ['acme', 'certRef'], `acme.certRef: ${a.certRef} is the file haproxy serves at ${site.id} (haproxy.https.certPath), not a store to fetch from; store it elsewhere, such as ssm:/anycdn/tls/${t.cdn.imageHost}`);
    }
  }
};
