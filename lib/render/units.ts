// systemd units for the daemons anycdn runs. Full units under /etc/systemd/system (they take
// precedence over Debian's), so the start command, its flags and the order live in one place.
// The lab starts daemons from these same ExecStart lines.
import type { Host, Site, Topology } from '../model/schema.ts';
import { dirname } from 'node:path';
import { announcesBgp, hasRole } from '../model/facts.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { emitUnit, exec, MAINPID, sh, type UnitSection } from './syntax/unit.ts';
import type { UnitSpec } from './unit-spec.ts';

export { activationUnit, serviceExecs, serviceValues, type UnitSpec } from './unit-spec.ts';
import { lbUnits } from './units-lb.ts';
import { cacheUnits } from './units-cache.ts';
import { tlsUnits } from './units-tls.ts';
import { secretFiles } from './secrets.ts';
import { monitoringUnits } from './units-monitoring.ts';
import type { RenderedFile, Renderer } from './types.ts';

/** Units by the roles a host has: each role's daemons come from its own module. */
export function unitSpecs(t: Topology, site: Site, host: Host): UnitSpec[] {
  return [...secretsUnits(t, site, host), ...dnsUnits(t, site, host), ...lbUnits(t, site, host), ...tlsUnits(t, site, host), ...cacheUnits(t, site, host), ...monitoringUnits(t, site, host)];
}

/** anycdn-secrets: on every host that reads a secret reference at boot (secrets.ts). */
function secretsUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  if (secretFiles(t, site, host).length === 0) return [];
  return [
    {
      name: 'anycdn-secrets',
      description: 'anycdn: fetch referenced secrets (BGP passwords, the ACME TSIG key) into /run/anycdn',
      after: ['network-online.target'],
      service: [
        ['Type', 'oneshot'],
        ['RemainAfterExit', 'yes'],
        ['ExecStart', exec(PATHS.fetchSecrets)],
      ],
    },
  ];
}

function dnsUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  const specs: UnitSpec[] = [];
  const secrets = hasRole(host, 'dns') && site.bgp.peers.some((p) => p.passwordRef);
  // With acme, knot.conf includes the TSIG key that anycdn-secrets fetches.
  const knotKey = hasRole(host, 'dns') && t.cdn.acme !== undefined;
  if (hasRole(host, 'dns')) {
    specs.push({
      name: 'knot',
      description: 'Knot DNS authoritative server (anycdn)',
      after: ['network-online.target', ...(knotKey ? ['anycdn-secrets.service'] : [])],
      ...(knotKey ? { requires: ['anycdn-secrets.service'] } : {}),
      service: [
        ['Type', 'simple'],
        // As Debian's own unit: knotd runs as knot, and only gets to bind port 53.
        ['User', 'knot'],
        ['Group', 'knot'],
        ['AmbientCapabilities', 'CAP_NET_BIND_SERVICE'],
        ['CapabilityBoundingSet', 'CAP_NET_BIND_SERVICE'],
        ['ExecStartPre', exec('/usr/sbin/knotc', '-c', PATHS.knotConf, 'conf-check')],
        ['ExecStart', exec('/usr/sbin/knotd', '-c', PATHS.knotConf)],
        ['ExecReload', exec('/usr/sbin/knotc', '-c', PATHS.knotConf, 'reload')],
        ['Restart', 'on-failure'],
        ['RuntimeDirectory', 'knot'],
        ['StateDirectory', 'knot'],
      ],
    });
    if (announcesBgp(site)) {
      specs.push({
        name: 'bird',
        description: 'BIRD routing daemon: announces the anycast DNS prefix (anycdn)',
        after: ['network-online.target', ...(secrets ? ['anycdn-secrets.service'] : [])],
        requires: secrets ? ['anycdn-secrets.service'] : [],
        service: [
          ['Type', 'simple'],
          // bird.conf includes the checker's announce file: neither depreferred nor draining until it says so.
          ['ExecStartPre', sh(`[ -e ${PATHS.birdAnnounce} ] || { mkdir -p ${dirname(PATHS.birdAnnounce)} && echo "define ANYCAST_DEPREFER = 0; define ANYCAST_DRAIN = 0;" > ${PATHS.birdAnnounce}; }`)],
          ['ExecStartPre', exec('/usr/sbin/bird', '-p', '-c', PATHS.birdConf)],
          ['ExecStart', exec('/usr/sbin/bird', '-f', '-c', PATHS.birdConf, '-s', PATHS.birdCtl)],
          ['ExecReload', exec('/usr/sbin/birdc', '-s', PATHS.birdCtl, 'configure')],
          ['Restart', 'on-failure'],
          ['RuntimeDirectory', 'bird'],
        ],
      });
    }
    specs.push({
      name: 'anycdn-healthcheck',
      description: 'anycdn health checker: anycast prefix on lo only while DNS and the image VIP answer',
      after: ['knot.service', ...(announcesBgp(site) ? ['bird.service'] : [])],
      service: [
        ['Type', 'simple'],
        ['ExecStartPre', exec(PATHS.withdraw)],
        ['ExecStart', exec(PATHS.node, PATHS.healthcheck, PATHS.healthcheckConf)],
        // Re-reads the drain settings of its config (a model drain), and drains gracefully.
        ['ExecReload', exec('/bin/kill', '-HUP', MAINPID)],
        // Runs after every exit, SIGKILL included: the prefix never outlives the checker.
        ['ExecStopPost', exec(PATHS.withdraw)],
        ['Restart', 'always'],
        ['RestartSec', '1'],
      ],
    });
  }
  return specs;
}

export const renderUnits: Renderer = (t, site, host) =>
  unitSpecs(t, site, host).flatMap((u): RenderedFile[] => {
    const file = (path: string, sections: UnitSection[]): RenderedFile => ({
      site: site.id,
      host: host.name,
      path,
      content: fileText([...headerLines(t, site.id, '#'), ...emitUnit(sections)]),
      mode: 0o644,
      check: 'systemd',
    });
    const service = file(`${PATHS.unitsDir}/${u.name}.service`, unitSections(u));
    if (!u.timer) return [service];
    return [service, file(`${PATHS.unitsDir}/${u.name}.timer`, [['Unit', [['Description', `${u.description}, on a schedule`]]], ['Timer', u.timer], ['Install', [['WantedBy', 'timers.target']]]])];
  });

function unitSections(u: UnitSpec): UnitSection[] {
  const unit: [string, string][] = [['Description', u.description]];
  if (u.after?.length) unit.push(['After', u.after.join(' ')]);
  if (u.before?.length) unit.push(['Before', u.before.join(' ')]);
  const wants = [...(u.after?.includes('network-online.target') ? ['network-online.target'] : []), ...(u.wants ?? [])];
  if (wants.length) unit.push(['Wants', wants.join(' ')]);
  if (u.requires?.length) unit.push(['Requires', u.requires.join(' ')]);
  return [
    ['Unit', unit],
    ['Service', u.service],
    ['Install', [['WantedBy', 'multi-user.target']]],
  ];
}
