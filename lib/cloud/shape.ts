// The backend-neutral cloud shape of a topology: what every cloud adapter (CDK today, Pulumi next)
// builds, computed once from the model and the hosts' plans (their files, units, packages and
// endpoints). Adapters only map it to resources.
import { InputError, sortDiagnostics } from '../model/errors.ts';
import { anycastFamilies, hasRole, nameserverGroup, s3Origins } from '../model/facts.ts';
import type { Cdn, Host, Site, Topology } from '../model/schema.ts';
import { activationUnit, healthPath, planOf, sitePlans, withPurpose, type Endpoint, type HostPlan } from '../render/index.ts';
import { hostBundle, type HostBundle } from './bundle.ts';
import { hostStatements, secretAccess, interfaceTags, managedPolicies, permissions, rolePath, type Permission, type Statement } from './iam.ts';
import { egressSubnetOf, networkShape, routerOf, subnetOf, type NetworkShape } from './network.ts';
import { readinessProbes, type VersionParts } from './rollout.ts';
import { groupsOf, securityGroups, type GroupName, type SecurityGroupShape } from './security.ts';
import { instanceType, rootVolumeGiB } from './sizes.ts';
import type { HostAddress, HostEgress } from './userdata.ts';
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
  /** The model address the bootstrap claims (the instance owns none; see lib/cloud/userdata.ts). */
  address: HostAddress;
  /** The host's second interface: in the egress subnet of its zone, its route to the internet. */
  egress: HostEgress;
  /** Tags on every interface of the host's instances, from launch: its statements' resourceTags. */
  interfaceTags: Record<string, string>;
  /** dns hosts: the accelerator's ports, forwarded from the primary address to the model address. */
  forwardFromPrimary?: { tcp: number[]; udp: number[] };
  /** The health gate of a rollout (lib/cloud/rollout.ts): the local probes that must answer 2xx. */
  readiness: { probes: string[] };
  /** What the host's version depends on; hostVersion() adds the AMI the adapter pins. */
  version: VersionParts;
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

/**
 * Said by synth (a CDK warning, a Pulumi warning) when a metal site's VIP alarm has no topic: an
 * alarm nobody hears is worse than none, because the dashboard looks covered. Synth warns rather
 * than fails, so an offline synth of the example and a CI diff need no real SNS topic (failing
 * would push people to paste a dummy ARN, which pages no one silently); `cdk synth --strict`
 * turns the warning into an error for a production pipeline.
 */
export function alarmPagesNoOne(site: string, setting: string): string {
  return `the VIP alarm of site ${site} pages no one: set ${setting} to an SNS topic ARN (us-east-1) that reaches your on-call`;
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
  /**
   * BYOIP: the IPv4 service address of each anycast prefix, in model order, used when the
   * adapter's BYOIP switch is on. Global Accelerator takes at most two (BYOIP_LIMIT).
   */
  byoipAddresses: string[];
  listeners: { protocol: 'UDP' | 'TCP'; port: number; clientAffinity: 'NONE' }[];
  /**
   * The BGP sites' rule: a dns host stays in its group only while its health checker answers
   * GET /anycast with 200 on the host's own address, that is while the site's DNS *and* image
   * path are healthy (lib/render/healthcheck.ts). The checks come from Route 53's health checkers.
   */
  healthCheck: { protocol: 'HTTP'; port: number; path: string; intervalSec: number; threshold: number };
  /** Global Accelerator passes the client address through to Knot (RRL, logs). */
  preserveClientIp: boolean;
  /** One endpoint group per site and listener. */
  sites: { id: string; region: string; dnsHosts: string[] }[];
  /** Only with dns.parentZone: the delegation of dns.zone in a Route 53 parent zone. */
  delegation?: DelegationShape;
}

/**
 * NS records for the zone in its Route 53 parent, and the in-zone name servers' glue: exactly the
 * child zone's own A and AAAA records for them (the service addresses of each one's anycast
 * prefix), so a resolver gets the same answer from the parent as from the zone (RFC 2182, RFC 9471).
 */
export interface DelegationShape {
  hostedZoneId: string;
  parentZone: string;
  zone: string;
  ttlSec: number;
  nameservers: string[];
  /** The name servers inside the zone, which resolvers can only find through glue, with the child's records. */
  glue: { name: string; a: string[]; aaaa: string[] }[];
}

/**
 * The fastest health checking Global Accelerator allows (its API: HealthCheckIntervalSeconds is 10
 * or 30, ThresholdCount 1..10): a check every 10 s, one failure takes the endpoint out. One is
 * enough because /anycast already carries the checker's own fall/rise hysteresis: a 503 there is
 * a site that withdrew, not one lost probe. A dead site leaves the rotation at most 10 s after
 * its checker says so (the AWS default, 30 s x 3, took up to 90 s; 10 s x 3 up to 30 s).
 */
export const GA_FASTEST_HEALTH_CHECK = { intervalSec: 10, threshold: 1 } as const;

/** Global Accelerator takes at most two static IPv4 addresses from BYOIP pools. */
export const BYOIP_LIMIT = 2;

export interface OriginShape {
  bucket: string;
  region: string;
  /** The second S3 origin of the model: created by its own stack, filled by S3 replication. */
  replica?: { bucket: string; region: string };
}

/** The buckets cache roles read: the origin and its replica. */
export function originBuckets(o: OriginShape | undefined): string[] {
  return o ? [o.bucket, ...(o.replica ? [o.replica.bucket] : [])] : [];
}

export interface CloudShape {
  /** The S3 origin bucket anycdn-origin owns, and the replica it replicates to (anycdn-origin-replica). */
  origin?: OriginShape;
  awsSites: AwsSiteShape[];
  metalSites: MetalSiteShape[];
  /** Only when a site is on aws. */
  accelerator?: AcceleratorShape;
}

/**
 * Deleting or replacing an accelerator releases its AWS-assigned anycast addresses, which the NS
 * glue points to: keep it unless the addresses are the operator's own (BYOIP), which a new
 * accelerator can take again.
 */
export function acceleratorRetained(byoip: boolean): boolean {
  return !byoip;
}

/** Throws InputError with every cloud-side problem of the model. `plans`: the sites' hosts' plans (renderPlans). */
export function cloudShape(t: Topology, plans: HostPlan[]): CloudShape {
  const problems = cloudDiagnostics(t);
  if (problems.length > 0) throw new InputError(sortDiagnostics(problems));
  const [primary, replica] = s3Origins(t.cdn);
  const origin: OriginShape | undefined = primary ? { bucket: primary.bucket, region: primary.region, ...(replica ? { replica: { bucket: replica.bucket, region: replica.region } } : {}) } : undefined;
  const awsSites: AwsSiteShape[] = [];
  const metalSites: MetalSiteShape[] = [];
  for (const site of t.sites) {
    if (site.platform === 'aws') awsSites.push(awsSite(t, site, plans));
    else metalSites.push(metalSite(t, site, plans));
  }
  const accelerator = awsSites.length > 0 ? acceleratorShape(t, awsSites, plans) : undefined;
  return { ...(origin ? { origin } : {}), awsSites, metalSites, ...(accelerator ? { accelerator } : {}) };
}

/**
 * What the accelerator forwards to a dns host, from its endpoints: Knot on the host's own address
 * (the accelerator's listeners), and the checker's status (its health check).
 */
function acceleratorEndpoints(plan: HostPlan): { dns: Endpoint[]; status: Endpoint } {
  const dns = withPurpose(plan.endpoints, 'dns-host').filter((e) => e.family === 4);
  const [status] = withPurpose(plan.endpoints, 'healthcheck-status');
  if (dns.length === 0 || !status) throw new Error(`internal: dns host ${plan.host} has no dns-host or healthcheck-status endpoint`);
  return { dns, status };
}

function acceleratorShape(t: Topology, awsSites: AwsSiteShape[], plans: HostPlan[]): AcceleratorShape {
  const first = awsSites.flatMap((s) => s.hosts.filter((h) => hasRole(h.host, 'dns')).map((h) => planOf(plans, s.site.id, h.host.name)))[0];
  if (!first) throw new Error('internal: aws sites without a dns host passed the model rules');
  const { dns, status } = acceleratorEndpoints(first);
  const transports = [...new Map(dns.map((e) => [`${e.transport}/${e.port}`, e] as const)).values()];
  return {
    name: 'anycdn-dns',
    byoipAddresses: anycastFamilies(t).filter((f) => f.family === 4).map((f) => f.address),
    listeners: transports.map((e) => ({ protocol: e.transport === 'udp' ? ('UDP' as const) : ('TCP' as const), port: e.port!, clientAffinity: 'NONE' as const })),
    healthCheck: { protocol: 'HTTP', port: status.port!, path: healthPath(status), ...GA_FASTEST_HEALTH_CHECK },
    preserveClientIp: true,
    sites: awsSites.map((s) => ({ id: s.site.id, region: s.region, dnsHosts: s.hosts.filter((h) => hasRole(h.host, 'dns')).map((h) => h.host.name) })),
    ...(t.cdn.dns.parentZone ? { delegation: delegationShape(t, t.cdn.dns.parentZone) } : {}),
  };
}

function delegationShape(t: Topology, parent: NonNullable<Cdn['dns']['parentZone']>): DelegationShape {
  const d = t.cdn.dns;
  const glue = (name: string) => {
    // The model rules give every in-zone name server a prefix (lib/model/rules/anycast.ts); the
    // zone file gives it the same addresses (lib/render/knot.ts).
    const group = nameserverGroup(t, name);
    if (!group) throw new Error(`internal: in-zone name server ${name} has no anycast prefix`);
    const of = (family: 4 | 6) => group.families.filter((f) => f.family === family).map((f) => f.address);
    return { name, a: of(4), aaaa: of(6) };
  };
  return {
    hostedZoneId: parent.hostedZoneId,
    parentZone: parent.name,
    zone: d.zone,
    ttlSec: d.nsTtlSec,
    nameservers: [...d.nameservers],
    glue: d.nameservers.filter((ns) => ns.endsWith(`.${d.zone}`)).map(glue),
  };
}

function awsSite(t: Topology, site: Site, plans: HostPlan[]): AwsSiteShape {
  // The model rules guarantee region, elasticIp and EC2-buildable subnets on aws sites.
  if (!site.region || !site.vip.elasticIp) throw new Error(`internal: aws site ${site.id} without region or elasticIp`);
  const elasticIp = site.vip.elasticIp;
  const network = networkShape(site);
  const vipSubnet = subnetOf(network, site.vip.address)?.name;
  if (!vipSubnet) throw new Error(`internal: the VIP of ${site.id} is outside its subnets`);
  const zoneCount = site.availabilityZones?.length ?? network.subnets.length;
  const hosts = site.hosts.map((host): CloudHost => {
    const subnet = subnetOf(network, host.address);
    if (!subnet) throw new Error(`internal: ${host.name} is outside the subnets of ${site.id}`);
    const plan = planOf(plans, site.id, host.name);
    const bundle = hostBundle(site.id, host.name, plan.files);
    const perms = permissions(t.cdn, site, host, plan);
    const packages = plan.packages;
    // A oneshot on a schedule is enabled and watched through its timer (activationUnit).
    const units = plan.units.map(activationUnit).sort();
    const type = instanceType(host);
    const rootGiB = rootVolumeGiB(t.cdn, host);
    const egress = egressSubnetOf(network, subnet, zoneCount);
    return {
      host,
      subnet: subnet.name,
      groups: groupsOf(host),
      instanceType: type,
      rootVolumeGiB: rootGiB,
      packages,
      units,
      permissions: perms,
      rolePath: rolePath(host),
      roleDescription: `anycdn ${site.id} host ${host.name} (${host.roles.join(', ')})`,
      statements: hostStatements(perms, s3Origins(t.cdn).slice(0, 2), elasticIp, { vip: vipSubnet, host: subnet.name }, { site: site.id, host: host.name }, secretAccess(t.cdn, site, host, plan)),
      managedPolicies: managedPolicies(perms),
      bundle,
      address: { address: host.address, subnet: subnet.cidr, router: routerOf(subnet.cidr), vpcCidr: network.vpcCidr, interface: host.interface },
      egress: { subnet: egress.cidr, router: egress.router },
      interfaceTags: interfaceTags(site.id, host.name),
      ...(hasRole(host, 'dns') ? { forwardFromPrimary: forwardFromPrimary(plan) } : {}),
      readiness: { probes: readinessProbes(plan) },
      version: {
        replacing: { subnet: subnet.cidr, azIndex: subnet.azIndex, egressSubnet: egress.cidr, rootVolumeGiB: rootGiB },
        restarting: { bundle: bundle.sha256, instanceType: type, packages, units },
      },
    };
  });
  return { site, region: site.region, network, securityGroups: securityGroups(t, site, sitePlans(plans, site.id)), hosts, elasticIp };
}

/** The accelerator's ports on a dns host (its listeners and its health check), forwarded from the primary address to the model address. */
function forwardFromPrimary(plan: HostPlan): { tcp: number[]; udp: number[] } {
  const { dns, status } = acceleratorEndpoints(plan);
  const ports = (transport: 'tcp' | 'udp') => [...new Set([...dns, status].filter((e) => e.transport === transport).map((e) => e.port!))];
  return { tcp: ports('tcp'), udp: ports('udp') };
}

function metalSite(t: Topology, site: Site, plans: HostPlan[]): MetalSiteShape {
  // The VIP's health path, on https when the site serves it: the first lb host's IPv4 VIP endpoint.
  const lb = sitePlans(plans, site.id).find((p) => p.endpoints.some((e) => e.purpose === 'image-vip-http'));
  const vip = lb && [...withPurpose(lb.endpoints, 'image-vip-https'), ...withPurpose(lb.endpoints, 'image-vip-http')].find((e) => e.family === 4);
  if (!vip?.address || !vip.port || vip.health?.kind !== 'http' || !vip.health.host) throw new Error(`internal: site ${site.id} has no IPv4 VIP endpoint with a health path`);
  return {
    site,
    bundles: site.hosts.map((h) => hostBundle(site.id, h.name, planOf(plans, site.id, h.name).files)),
    health: {
      ipAddress: vip.address,
      protocol: vip.protocol === 'https' ? 'HTTPS' : 'HTTP',
      port: vip.port,
      path: vip.health.path,
      hostName: vip.health.host,
      failureThreshold: t.cdn.healthcheck.fall,
      requestIntervalSec: 30,
    },
    alarm: VIP_ALARM,
  };
}
