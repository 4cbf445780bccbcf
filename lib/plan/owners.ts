// Which daemon (named by its systemd unit) each rendered path belongs to, and the classifier that
// reads it. Paths come from lib/render/paths.ts, so a renamed file cannot silently lose its owner:
// plan refuses a rendered path that has none (test/plan/owners.test.ts renders every role).
import { PATHS } from '../render/index.ts';
import {
  classifyBird,
  classifyHaproxy,
  classifyHealthcheckConf,
  classifyKeepalived,
  classifyKnotConf,
  classifyNginx,
  classifyThumbnailerConf,
  classifySquid,
  classifySysctl,
  classifyUnit,
  classifyZone,
  fixed,
  type Classifier,
  type Impact,
} from './classify.ts';

export interface Owner {
  /** The unit that reads the file ("bird", "nginx"); "systemd" for unit files themselves is not used: a unit file belongs to its unit. */
  unit: string;
  classify: Classifier;
}

const EXACT: Record<string, Owner> = {
  [PATHS.birdConf]: { unit: 'bird', classify: classifyBird },
  [PATHS.knotConf]: { unit: 'knot', classify: classifyKnotConf },
  [PATHS.haproxyConf]: { unit: 'haproxy', classify: classifyHaproxy },
  [PATHS.haproxyDrainMap]: { unit: 'haproxy', classify: fixed('haproxy-reload', 'the drain map haproxy loads at start (its runtime entries end at the reload)') },
  [PATHS.keepalivedConf]: { unit: 'keepalived', classify: classifyKeepalived },
  [PATHS.eipTakeover]: { unit: 'keepalived', classify: fixed('file-only', 'the Elastic IP hook runs at the next VRRP transition') },
  [PATHS.lbSysctl]: { unit: 'sysctl', classify: classifySysctl },
  [PATHS.nginxConf]: { unit: 'nginx', classify: classifyNginx },
  [PATHS.squidConf]: { unit: 'squid', classify: classifySquid },
  [PATHS.squidStripQuery]: { unit: 'squid', classify: fixed('squid-reconfigure', 'the URL rewrite helper: reconfigure restarts the helpers') },
  [PATHS.healthcheck]: { unit: 'anycdn-healthcheck', classify: fixed('healthcheck-restart', 'the health checker program') },
  [PATHS.healthcheckConf]: { unit: 'anycdn-healthcheck', classify: classifyHealthcheckConf },
  [PATHS.withdraw]: { unit: 'anycdn-healthcheck', classify: fixed('file-only', 'the withdraw script runs at the next stop of the checker') },
  [PATHS.mtailProgram]: { unit: 'mtail', classify: fixed('mtail-reload', "the program that counts nginx's cache statuses from its access log") },
  [PATHS.thumbnailer]: { unit: 'anycdn-thumbnailer', classify: fixed('thumbnailer-restart', 'the thumbnailer program') },
  [PATHS.thumbnailerConf]: { unit: 'anycdn-thumbnailer', classify: classifyThumbnailerConf },
  [PATHS.prometheusConf]: { unit: 'prometheus', classify: fixed('prometheus-reload', 'the scrape config: the hosts and exporters Prometheus scrapes') },
  [PATHS.prometheusRules]: { unit: 'prometheus', classify: fixed('prometheus-reload', 'the alert rules') },
  [PATHS.fetchSecrets]: { unit: 'anycdn-secrets', classify: fixed('file-only', 'the secrets fetcher runs at the next boot or restart of anycdn-secrets') },
  // Certificates: a new certificate is no rendered change at all (anycdn-cert-fetch installs it
  // without a reload); these programs are read at their next run.
  [PATHS.certCheck]: { unit: 'haproxy', classify: fixed('file-only', 'the certificate check runs at the next install') },
  [PATHS.certInstall]: { unit: 'haproxy', classify: classifyCertInstall },
  [PATHS.certFetch]: { unit: 'anycdn-cert-fetch', classify: fixed('file-only', 'the certificate fetch runs at its next timer or haproxy start') },
  [PATHS.acmeRenew]: { unit: 'anycdn-acme', classify: fixed('file-only', 'the issuer runs it at its next timer') },
  [PATHS.acmeDnsHook]: { unit: 'anycdn-acme', classify: fixed('file-only', 'the issuer runs it at its next issuance') },
};

/**
 * The install program: read at its next run, but a new CERT_PATH (haproxy.https.certPath) means
 * the PEM must be at the new path before haproxy reloads, or haproxy -c refuses the new config.
 */
function classifyCertInstall(before: string, after: string): Impact[] {
  if (before === after) return [];
  const path = (t: string) => /^CERT_PATH='([^']*)'$/m.exec(t)?.[1];
  const [b, a] = [path(before), path(after)];
  if (b && a && b !== a) return [{ class: 'file-only', reason: `the certificate moves from ${b} to ${a}: install it there (anycdn-cert-fetch) before haproxy reloads, which refuses a missing crt` }];
  return [{ class: 'file-only', reason: 'the certificate install runs at its next use' }];
}

/** The owner of a path on a host, or undefined for a file anycdn does not render. */
export function ownerOf(path: string): Owner | undefined {
  const exact = EXACT[path];
  if (exact) return exact;
  if (path.startsWith(`${PATHS.knotZonesDir}/`) && path.endsWith('.zone')) return { unit: 'knot', classify: classifyZone };
  const unit = new RegExp(`^${PATHS.unitsDir}/([a-z0-9-]+)\\.(service|timer)$`).exec(path);
  if (unit) return { unit: unit[1]!, classify: classifyUnit };
  return undefined;
}

/** Unit files are where a daemon comes and goes: its unit file added or removed. */
export function unitFileOf(path: string): string | undefined {
  return new RegExp(`^${PATHS.unitsDir}/([a-z0-9-]+)\\.service$`).exec(path)?.[1];
}
