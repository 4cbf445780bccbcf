// What each host may do in AWS, by role, as backend-neutral statements: each adapter maps a
// resource reference to an ARN in its own partition, account and region, and nothing else. Reading
// the host's own bundle is implied for every host.
import { hasRole, s3Origins } from '../model/facts.ts';
import type { Cdn, Host, Site } from '../model/schema.ts';
import { withPurpose, type HostPlan } from '../render/index.ts';
import { bundleParameter } from './bundle.ts';

export type Permission =
  /** AmazonSSMManagedInstanceCore: Session Manager instead of SSH. */
  | 'ssm-core'
  /**
   * s3:GetObject on the objects of the origin bucket and its replica, and s3:ListBucket on both
   * (so a missing key is a 404, not a 403).
   */
  | 'origin-read'
  /**
   * The keepalived notify hook on the new master: ec2:AssignPrivateIpAddresses (the VIP, with
   * --allow-reassignment) and ec2:AssociateAddress (the site's Elastic IP to the VIP, with
   * --allow-reassociation), on this allocation and this host's own interfaces in the VIP subnet.
   */
  | 'move-vip'
  /**
   * The bootstrap of an aws host: ec2:AssignPrivateIpAddresses (its model address, with
   * --allow-reassignment) on the network interfaces of its own subnet. The instance has no fixed
   * address of its own, so a replacement can start while the old instance still runs and take the
   * address over (see lib/cloud/userdata.ts and docs/deploy-cdk.md "The update path"). And
   * ec2:DescribeNetworkInterfaces, to find the interface it takes the address from and hand it
   * back if the new host fails.
   */
  | 'claim-address'
  /**
   * ssm:GetParameter on the SSM parameters the host's programs fetch (acme: the TSIG key on dns
   * hosts and the issuer, the certificate on lb hosts that serve HTTPS). SecureStrings under the
   * account's aws/ssm key need nothing more.
   */
  | 'read-secrets'
  /** The issuer: ssm:PutParameter on acme.certRef, where it stores each new certificate. */
  | 'store-certificate';

/**
 * The SSM parameter names (ssm:/name references) a host reads and writes. secretsmanager: and
 * file: references get no statement here (see docs/certificates.md, Limits). A host fetches the
 * certificate where its plan has an https endpoint (the certificate haproxy serves).
 */
export function secretAccess(cdn: Cdn, site: Site, host: Host, plan: Pick<HostPlan, 'endpoints'>): { read: string[]; write: string[] } {
  const ssm = (refs: (string | undefined)[]) => [...new Set(refs.filter((r): r is string => r?.startsWith('ssm:') === true).map((r) => r.slice('ssm:'.length)))].sort();
  const a = cdn.acme;
  const dns = hasRole(host, 'dns');
  const issuer = a?.issuer === host.name;
  const serves = a !== undefined && withPurpose(plan.endpoints, 'image-vip-https').length > 0;
  return {
    read: ssm([...(dns ? site.bgp.peers.map((p) => p.passwordRef) : []), ...(a && (dns || issuer) ? [a.tsigKeyRef] : []), ...(a && (serves || issuer) ? [a.certRef] : [])]),
    write: ssm(issuer ? [a!.certRef] : []),
  };
}

export function permissions(cdn: Cdn, site: Site, host: Host, plan: Pick<HostPlan, 'endpoints'>): Permission[] {
  const out: Permission[] = ['ssm-core'];
  if (hasRole(host, 'cache') && s3Origins(cdn).length > 0) out.push('origin-read');
  if (hasRole(host, 'lb') && site.vip.elasticIp) out.push('move-vip');
  if (site.platform === 'aws') out.push('claim-address');
  const secrets = secretAccess(cdn, site, host, plan);
  if (secrets.read.length > 0) out.push('read-secrets');
  if (secrets.write.length > 0) out.push('store-certificate');
  return out;
}

/**
 * The IAM path of cache instance roles. The origin bucket policy admits roles under this path, so
 * the origin stack needs no reference to any site stack (which may live in another region).
 */
export const CACHE_ROLE_PATH = '/anycdn/cache/';
/** The IAM path of every other host role. */
export const HOST_ROLE_PATH = '/anycdn/';

export function rolePath(host: Host): string {
  return hasRole(host, 'cache') ? CACHE_ROLE_PATH : HOST_ROLE_PATH;
}

/** The AWS-managed policy behind ssm-core. */
export const SSM_CORE_POLICY = 'AmazonSSMManagedInstanceCore';

/** What a statement points at; the adapter turns it into an ARN. */
export type ResourceRef =
  /** The object that holds this host's bundle (a CDK asset, or an object in the Pulumi site bucket). */
  | { kind: 'own-bundle' }
  /** arn:<partition>:s3:::<bucket> */
  | { kind: 's3-bucket'; bucket: string }
  /** arn:<partition>:s3:::<bucket>/<pattern> */
  | { kind: 's3-objects'; bucket: string; pattern: string }
  /** arn:<partition>:ssm:<region>:<account>:parameter<name> (a name starting with /) */
  | { kind: 'ssm-parameter'; name: string }
  /** arn:<partition>:ec2:<region>:<account>:elastic-ip/<allocationId> */
  | { kind: 'elastic-ip'; allocationId: string }
  /** arn:<partition>:ec2:<region>:<account>:network-interface/* */
  | { kind: 'network-interfaces' }
  /** "*": for actions that take no resource-level permissions (ec2:Describe*). */
  | { kind: 'any' };

export interface Statement {
  sid: string;
  actions: string[];
  resources: ResourceRef[];
  /** ArnEquals ec2:Subnet: the subnet of that model key (subnets.<name>). */
  inSubnet?: string;
  /**
   * StringEquals aws:ResourceTag/<key>: only resources with these tags. The adapters tag each
   * host's network interfaces at launch with INTERFACE_TAGS (the hosts may not tag anything), so
   * a host may move addresses only onto interfaces of its own instances.
   */
  resourceTags?: Record<string, string>;
}

/** The tags every network interface of an aws host carries from launch (lib/cloud/iam.ts). */
export function interfaceTags(site: string, host: string): Record<string, string> {
  return { 'anycdn:site': site, 'anycdn:host': host };
}

/** The model subnets a host's statements name: the VIP's and the host's own. */
export interface StatementSubnets {
  vip: string;
  host: string;
}

/** Whose interfaces a host may move addresses onto: its own (site and host name). */
export interface StatementOwner {
  site: string;
  host: string;
}

/** The inline statements of a host role, in the order the adapters add them. */
export function hostStatements(perms: Permission[], origins: { bucket: string }[], elasticIp: { allocationId: string }, subnets: StatementSubnets, owner: StatementOwner, secrets: { read: string[]; write: string[] } = { read: [], write: [] }): Statement[] {
  const own = interfaceTags(owner.site, owner.host);
  const out: Statement[] = [{ sid: 'ReadOwnBundle', actions: ['s3:GetObject'], resources: [{ kind: 'own-bundle' }] }];
  for (const p of perms) {
    switch (p) {
      case 'ssm-core':
        break; // a managed policy, not a statement
      case 'origin-read':
        if (origins.length === 0) throw new Error('internal: origin-read without an origin bucket');
        out.push({ sid: 'ReadOrigin', actions: ['s3:GetObject'], resources: origins.map((o) => ({ kind: 's3-objects' as const, bucket: o.bucket, pattern: '*' })) });
        out.push({ sid: 'ListOriginSoMissingIs404', actions: ['s3:ListBucket'], resources: origins.map((o) => ({ kind: 's3-bucket' as const, bucket: o.bucket })) });
        break;
      case 'move-vip':
        out.push({ sid: 'AssociateSiteElasticIp', actions: ['ec2:AssociateAddress'], resources: [{ kind: 'elastic-ip', allocationId: elasticIp.allocationId }] });
        // Onto this host's own interface only: the notify hook runs on the new master and pulls
        // the VIP and the Elastic IP to itself (the source interface is not part of the request).
        out.push({ sid: 'MoveVipOntoOwnInterface', actions: ['ec2:AssociateAddress', 'ec2:AssignPrivateIpAddresses'], resources: [{ kind: 'network-interfaces' }], inSubnet: subnets.vip, resourceTags: own });
        break;
      case 'claim-address':
        // Onto interfaces of this host's instances only: the new one claims, a failed new one hands
        // the address back to the old one (the same host).
        out.push({ sid: 'ClaimOwnAddressOnOwnInterfaces', actions: ['ec2:AssignPrivateIpAddresses'], resources: [{ kind: 'network-interfaces' }], inSubnet: subnets.host, resourceTags: own });
        out.push({ sid: 'FindAddressHolder', actions: ['ec2:DescribeNetworkInterfaces'], resources: [{ kind: 'any' }] });
        break;
      case 'read-secrets':
        out.push({ sid: 'ReadReferencedSecrets', actions: ['ssm:GetParameter'], resources: secrets.read.map((name) => ({ kind: 'ssm-parameter' as const, name })) });
        break;
      case 'store-certificate':
        out.push({ sid: 'StoreCertificate', actions: ['ssm:PutParameter'], resources: secrets.write.map((name) => ({ kind: 'ssm-parameter' as const, name })) });
        break;
    }
  }
  return out;
}

/** AWS-managed policies of a host role. */
export function managedPolicies(perms: Permission[]): string[] {
  return perms.includes('ssm-core') ? [SSM_CORE_POLICY] : [];
}

/**
 * The origin bucket policy beyond TLS-only: principals of this account whose ARN is under the
 * cache role path (aws:PrincipalArn ArnLike arn:<partition>:iam::<account>:role/anycdn/cache/*).
 */
export function originBucketStatements(bucket: string): Statement[] {
  return [
    { sid: 'CachesReadImages', actions: ['s3:GetObject'], resources: [{ kind: 's3-objects', bucket, pattern: '*' }] },
    { sid: 'CachesListSoMissingIs404', actions: ['s3:ListBucket'], resources: [{ kind: 's3-bucket', bucket }] },
  ];
}

/**
 * The managed policy a metal host pulls its bundle with: the parameter that points at its current
 * bundle (lib/cloud/bundle.ts), and that bundle's object, nothing else.
 */
export function pullStatements(site: string, host: string): Statement[] {
  return [
    { sid: 'ReadOwnBundlePointer', actions: ['ssm:GetParameter'], resources: [{ kind: 'ssm-parameter', name: bundleParameter(site, host) }] },
    { sid: 'PullOwnBundle', actions: ['s3:GetObject'], resources: [{ kind: 'own-bundle' }] },
  ];
}

/** The service principal S3 replication assumes a role as. */
export const REPLICATION_PRINCIPAL = 's3.amazonaws.com';

/**
 * The S3 replication role of the origin bucket (AWS's minimum for live replication, SSE-S3): read
 * the replication configuration and the object versions of the source, write replicas, deletes
 * (delete markers, so a removed image leaves the replica too) and tags into the replica.
 */
export function replicationStatements(source: string, replica: string): Statement[] {
  return [
    { sid: 'ReadReplicationConfiguration', actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [{ kind: 's3-bucket', bucket: source }] },
    {
      sid: 'ReadSourceVersions',
      actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
      resources: [{ kind: 's3-objects', bucket: source, pattern: '*' }],
    },
    { sid: 'WriteReplicas', actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], resources: [{ kind: 's3-objects', bucket: replica, pattern: '*' }] },
  ];
}
