// Units for certificates (docs/certificates.md): the issuer's renewal and the lb hosts' fetch,
// each a oneshot started by a timer. Timers fire at a random point of their window
// (RandomizedDelaySec), so the lb hosts of every site never fetch at one moment, and a missed run
// (the host was off) runs at boot (Persistent=true).
import type { Host, Site, Topology } from '../model/schema.ts';
import { acmeIssuer, fetchesCert } from './acme-facts.ts';
import { PATHS } from './paths.ts';
import { secretFiles } from './secrets.ts';
import { exec } from './syntax/unit.ts';
import type { UnitSpec } from './unit-spec.ts';

export function tlsUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  const specs: UnitSpec[] = [];
  if (acmeIssuer(t)?.host.name === host.name) {
    const secrets = secretFiles(t, site, host).length > 0;
    specs.push({
      name: 'anycdn-acme',
      description: 'anycdn: renew the image host certificate over ACME DNS-01 when a third of its lifetime is left',
      after: ['network-online.target', ...(secrets ? ['anycdn-secrets.service'] : [])],
      ...(secrets ? { requires: ['anycdn-secrets.service'] } : {}),
      service: [
        ['Type', 'oneshot'],
        ['ExecStart', exec(PATHS.acmeRenew)],
        // lego's account key lives here, and the certificate's key only until it is stored: a
        // tmpfs, kept between runs until a reboot (then lego registers a new account, which costs
        // nothing at the CA), so no private key is ever written to this host's disk.
        ['RuntimeDirectory', 'anycdn-acme'],
        ['RuntimeDirectoryMode', '0700'],
        ['RuntimeDirectoryPreserve', 'yes'],
        // Three attempts with pauses of a few minutes, each bounded by lego's own timeouts.
        ['TimeoutStartSec', '30min'],
      ],
      timer: [
        ['OnCalendar', '*-*-* 00,12:00:00'],
        ['RandomizedDelaySec', '6h'],
        ['Persistent', 'true'],
      ],
    });
  }
  if (fetchesCert(t, site, host)) {
    specs.push({
      name: 'anycdn-cert-fetch',
      description: 'anycdn: fetch the image host certificate from acme.certRef and install it without a reload',
      after: ['network-online.target'],
      // At boot, before haproxy loads certPath (a failure keeps the certificate already on disk).
      before: ['haproxy.service'],
      service: [
        ['Type', 'oneshot'],
        ['ExecStart', exec(PATHS.certFetch)],
        ['TimeoutStartSec', '5min'],
      ],
      timer: [
        ['OnCalendar', 'hourly'],
        ['RandomizedDelaySec', '45min'],
        ['Persistent', 'true'],
      ],
    });
  }
  return specs;
}
