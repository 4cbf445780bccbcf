// The backend-neutral cloud shape of a topology: what every cloud adapter (CDK today, Pulumi next)
// builds, computed once from the model and the rendered files. Adapters only map it to resources.
import { InputError, sortDiagnostics } from '../model/errors.ts';
import { prefixAddress } from '../model/net.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import type { RenderedFile } from '../render/types.ts';
import { hostBundle, type HostBundle } from './bundle.ts';
import { hostStatements, managedPolicies, permissions, rolePath, type Permission, type Statement } from './iam.ts';
import { networkShape, subnetOf, type NetworkShape } from './network.ts';
import { debianPackages, systemdUnits } from './packages.ts';
import { groupsOf, securityGroups, type GroupName, type SecurityGroupShape } from './security.ts';
import { instanceType, rootVolumeGiB } from './sizes.ts';
import { cloudDiagnostics } from './validate.ts';

export interface CloudHost {
  host: Host;
  /** Model key of the subnet that holds the host address. */
  subnet: string;
  groups: GroupName[];
  instanceType: string;
  rootVolumeGiB: number;
  packages: string[];
  units: string[];
  permissions: Permission[];
  /** The IAM path of the host's role (the origin bucket admits the cache path). */
  rolePath: string;
  roleDescription: string;
  /** Inline statements of the host's role, in order. */
  statements: Statement[];
  /** AWS-managed policies of the host's role. */
  managedPolicies: string[];
  bundle: HostBundle;
}

export interface AwsSiteShape {
  site: Site;
  region: string;
  network: NetworkShape;
  securityGroups: SecurityGroupShape[];
  hosts: CloudHost[];
  /** The pre-allocated Elastic IP that keepalived's notify hook moves to the VIP. */
  elasticIp: { address: string; allocationId: string };
}

export interface MetalSiteShape {
  site: Site;
  bundles: HostBundle[];
  /** What the Route 53 health check probes: the site's image VIP and health path. */
  health: { ipAddress: string; protocol: 'HTTP' | 'HTTPS'; port: number; path: string; hostName: string; failureThreshold: number; requestIntervalSec: number };
  /** The alarm on the health check's HealthCheckStatus metric (AWS/Route53). */
  alarm: typeof VIP_ALARM;
}

/** Down when the minimum status over a minute is below 1, or when no status arrives at all. */
export const VIP_ALARM = {
  statistic: 'Minimum',
  periodSec: 60,
  threshold: 1,
  comparison: 'LessThanThreshold',
  evaluationPeriods: 1,
  treatMissingData: 'breaching',
} as const;

/** The anycast entry for aws sites: UDP and TCP listeners on 53, per site its dns hosts. */
export interface AcceleratorShape {
  name: string;
  /** BYOIP: the model's anycast IPv4 address, used when the adapter's BYOIP switch is on. */
  byoipAddress: string;
  listeners: { protocol: 'UDP' | 'TCP'; port: number; clientAffinity: 'NONE' }[];
  /** Knot answers TCP on 53; a dns host whose Knot is down leaves its group. */
  healthCheck: { protocol: 'TCP'; port: number; intervalSec: number; threshold: number };
  /** Global Accelerator passes the client address through to Knot (RRL, logs). */
  preserveClientIp: boolean;
  /** One endpoint group per site and listener. */
  sites: { id: string; region: string; dnsHosts: string[] }[];
}

export interface CloudShape {
  origin?: { bucket: string; region: string };
  awsSites: AwsSiteShape[];
  metalSites: MetalSiteShape[];
  /** Only when a site is on aws. */
  accelerator?: AcceleratorShape;
}

/** Throws InputError with every cloud-side problem of the model. */
export function cloudShape(t: Topology, files: RenderedFile[]): CloudShape {
  const problems = cloudDiagnostics(t);
  if (problems.length > 0) throw new InputError(sortDiagnostics(problems));
  const origin = 's3' in t.cdn.origin ? { bucket: t.cdn.origin.s3.bucket, region: t.cdn.origin.s3.region } : undefined;
  const awsSites: AwsSiteShape[] = [];
  const metalSites: MetalSiteShape[] = [];
  for (const site of t.sites) {
    if (site.platform === 'aws') awsSites.push(awsSite(t, site, files));
    else metalSites.push(metalSite(t, site, files));
  }
  const accelerator = awsSites.length > 0 ? acceleratorShape(t, awsSites) : undefined;
  return { ...(origin ? { origin } : {}), awsSites, metalSites, ...(accelerator ? { accelerator } : {}) };
}

function acceleratorShape(t: Topology, awsSites: AwsSiteShape[]): AcceleratorShape {
  return {
    name: 'anycdn-dns',
    byoipAddress: prefixAddress(t.cdn.anycast.ipv4),
    listeners: (['UDP', 'TCP'] as const).map((protocol) => ({ protocol, port: 53, clientAffinity: 'NONE' as const })),
    healthCheck: { protocol: 'TCP', port: 53, intervalSec: 10, threshold: 3 },
    preserveClientIp: true,
    sites: awsSites.map((s) => ({ id: s.site.id, region: s.region, dnsHosts: s.hosts.filter((h) => h.host.roles.includes('dns')).map((h) => h.host.name) })),
  };
}

function awsSite(t: Topology, site: Site, files: RenderedFile[]): AwsSiteShape {
  // The model rules guarantee region, elasticIp and EC2-buildable subnets on aws sites.
  if (!site.region || !site.vip.elasticIp) throw new Error(`internal: aws site ${site.id} without region or elasticIp`);
  const elasticIp = site.vip.elasticIp;
  const network = networkShape(site);
  const hosts = site.hosts.map((host): CloudHost => {
    const subnet = subnetOf(network, host.address);
    if (!subnet) throw new Error(`internal: ${host.name} is outside the subnets of ${site.id}`);
    const bundle = hostBundle(site.id, host.name, files);
    const perms = permissions(t.cdn, site, host);
    return {
      host,
      subnet: subnet.name,
      groups: groupsOf(host),
      instanceType: instanceType(host),
      rootVolumeGiB: rootVolumeGiB(t.cdn, host),
      packages: debianPackages(site, host),
      units: systemdUnits(host, bundle.files),
      permissions: perms,
      rolePath: rolePath(host),
      roleDescription: `anycdn ${site.id} host ${host.name} (${host.roles.join(', ')})`,
      statements: hostStatements(perms, 's3' in t.cdn.origin ? t.cdn.origin.s3 : undefined, elasticIp),
      managedPolicies: managedPolicies(perms),
      bundle,
    };
  });
  return { site, region: site.region, network, securityGroups: securityGroups(t, site), hosts, elasticIp: site.vip.elasticIp };
}

function metalSite(t: Topology, site: Site, files: RenderedFile[]): MetalSiteShape {
  const https = site.haproxy.https !== undefined;
  return {
    site,
    bundles: site.hosts.map((h) => hostBundle(site.id, h.name, files)),
    health: {
      ipAddress: site.vip.address,
      protocol: https ? 'HTTPS' : 'HTTP',
      port: https ? 443 : 80,
      path: t.cdn.healthcheck.path,
      hostName: t.cdn.imageHost,
      failureThreshold: t.cdn.healthcheck.fall,
      requestIntervalSec: 30,
    },
    alarm: VIP_ALARM,
  };
}
