// The health checker on dns hosts: lib/healthcheck/anycdn-healthcheck.mjs, the dependency-free
// bundle `npm run build` makes of lib/healthcheck/*.ts (checked in, so render needs no build),
// shipped byte for byte; its JSON config; and a small sh script that takes the covering anycast
// prefixes off lo. The unit runs that script before every start and after every exit (SIGKILL
// included), so an announcement never outlives its checker. The program starts no process per
// probe; see lib/healthcheck/checker.ts for the states and docs/anycast-dns.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { fileText, headerLines } from './header.ts';
import { announcedGroups, announcesBgp, fallbackSite, hasRole, isDrained, publishedVip, publishedVip6 } from '../model/facts.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { endpointOf, endpointUrl, healthPath, unitEndpoints, vipEndpoints, withPurpose } from './endpoints.ts';
import { PATHS } from './paths.ts';
import { assign, emitSh, sh } from './syntax/shell.ts';
import type { Renderer } from './types.ts';

/** The checker program: a constant of this package (the checked-in bundle), not rendered from the model. */
export const HEALTHCHECK_PROGRAM = readFileSync(join(PACKAGE_ROOT, 'lib', 'healthcheck', 'anycdn-healthcheck.mjs'), 'utf8');

export const renderHealthcheck: Renderer = (t, site, host) => {
  if (!hasRole(host, 'dns')) return [];
  const hc = t.cdn.healthcheck;
  // Per anycast prefix: the service addresses (host routes on lo for as long as the checker runs)
  // and the covering prefixes, which sit on lo as their network address only while announced.
  const anycast = announcedGroups(t, site).map((g) => ({
    name: g.name,
    addresses: g.families.map((f) => `${f.address}/${f.family === 4 ? 32 : 128}`),
    prefixes: g.families.map((f) => f.prefix),
  }));
  const covering = anycast.flatMap((g) => g.prefixes);
  const vip6 = publishedVip6(site);
  // The image path it probes: the VIP's health path, on each family of the VIP.
  const [url, url6] = vipEndpoints(t, site, 'image-vip-http').map((e) => endpointUrl(e, { defaultPort: 'omit' }));
  // Knot on the anycast addresses: the checker asks each of its prefixes' service addresses.
  const dns = endpointOf(t, site, host, 'knot', 'dns-anycast');
  const status = endpointOf(t, site, host, 'anycdn-healthcheck', 'healthcheck-status');
  const metrics = withPurpose(unitEndpoints(t, site, host, 'anycdn-healthcheck'), 'exporter-healthcheck')[0];
  const config = {
    // JSON has no comments: the generated-by header is a key the program ignores.
    '//': headerLines(t, site.id, '').map((l) => l.trim()).join(' '),
    intervalMs: hc.intervalMs,
    timeoutMs: hc.timeoutMs,
    fall: hc.fall,
    rise: hc.rise,
    dns: { port: dns.port, name: t.cdn.imageHost, expect: publishedVip(site), ...(vip6 ? { expect6: vip6 } : {}) },
    http: { url, ...(url6 ? { url6 } : {}) },
    anycast,
    onImagePathDown: hc.onImagePathDown,
    ...(announcesBgp(site) ? { bird: { socket: PATHS.birdCtl, stateFile: PATHS.birdAnnounce } } : {}),
    drain: drainConfig(t, site, host),
    statusFile: PATHS.healthcheckStatus,
    status: { address: status.address, port: status.port, path: healthPath(status) },
    ...(metrics?.metrics && metrics.reach.from === 'scrape' ? { metrics: { path: metrics.metrics.path, allowFrom: metrics.reach.prefixes } } : {}),
  };
  return [
    { site: site.id, host: host.name, path: PATHS.healthcheck, content: fileText([...headerLines(t, site.id, '//'), HEALTHCHECK_PROGRAM]), mode: 0o644, check: 'node' },
    { site: site.id, host: host.name, path: PATHS.healthcheckConf, content: `${JSON.stringify(config, null, 2)}\n`, mode: 0o644, check: 'healthcheck' },
    {
      site: site.id,
      host: host.name,
      path: PATHS.withdraw,
      content: fileText(
        emitSh([
          '#!/bin/sh',
          ...headerLines(t, site.id, '#'),
          '# Takes the covering anycast prefixes off lo: bird stops announcing them within milliseconds.',
          '# The service addresses stay: they carry only this host\'s own traffic while nothing announces them.',
          '# Run by anycdn-healthcheck.service before every start and after every exit.',
          sh`set -u
${assign('ANYCAST', covering.join(' '))}
for p in $ANYCAST; do
	if ip addr show dev lo | grep -q " $p "; then ip addr del "$p" dev lo; fi
done`,
        ]),
      ),
      mode: 0o755,
      check: 'shell',
    },
  ];
};

/**
 * How the checker drains: the model's state (a drained site, or a drained dns host), the request
 * file `anycdn drain` writes, the delay before it withdraws, and (when the model names one) the
 * fallback site whose VIP the local Knot answers with during a site drain.
 */
function drainConfig(t: Topology, site: Site, host: Host) {
  const fallback = fallbackSite(t, site);
  return {
    requestFile: PATHS.drainRequest,
    withdrawAfterSec: site.drain.withdrawAfterSec,
    drained: isDrained(site) ? 'site' : isDrained(host) ? 'host' : 'none',
    ...(fallback
      ? {
          fallback: publishedVip(fallback),
          ...(publishedVip6(fallback) ? { fallback6: publishedVip6(fallback) } : {}),
          knot: { knotc: '/usr/sbin/knotc', conf: PATHS.knotConf, zone: t.cdn.dns.zone, name: t.cdn.imageHost, ttlSec: t.cdn.dns.ttlSec },
        }
      : {}),
  };
}
