// The backend-neutral cloud shape of a topology: what every cloud adapter (CDK today, Pulumi next)
// builds, computed once from the model and the rendered files. Adapters only map it to resources.
import { InputError, sortDiagnostics } from '../model/errors.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import type { RenderedFile } from '../render/types.ts';
import { hostBundle, type HostBundle } from './bundle.ts';
import { permissions, type Permission } from './iam.ts';
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
  health: { ipAddress: string; protocol: 'HTTP' | 'HTTPS'; port: number; path: string; hostName: string; failureThreshold: number };
}

export interface CloudShape {
  origin?: { bucket: string; region: string };
  awsSites: AwsSiteShape[];
  metalSites: MetalSiteShape[];
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
  return { ...(origin ? { origin } : {}), awsSites, metalSites };
}

function awsSite(t: Topology, site: Site, files: RenderedFile[]): AwsSiteShape {
  // The model rules guarantee region and elasticIp on aws sites; cloudDiagnostics the subnets.
  if (!site.region || !site.vip.elasticIp) throw new Error(`internal: aws site ${site.id} without region or elasticIp`);
  const network = networkShape(site);
  const hosts = site.hosts.map((host): CloudHost => {
    const subnet = subnetOf(network, host.address);
    if (!subnet) throw new Error(`internal: ${host.name} is outside the subnets of ${site.id}`);
    const bundle = hostBundle(site.id, host.name, files);
    return {
      host,
      subnet: subnet.name,
      groups: groupsOf(host),
      instanceType: instanceType(host),
      rootVolumeGiB: rootVolumeGiB(t.cdn, host),
      packages: debianPackages(site, host),
      units: systemdUnits(host, bundle.files),
      permissions: permissions(t.cdn, site, host),
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
    },
  };
}
