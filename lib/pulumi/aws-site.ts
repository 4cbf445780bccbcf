// The Pulumi twin of anycdn-<site> for an aws site: the VPC with the model's exact subnets, one
// security group per role with exactly the shape's rules, a config bucket holding each host's
// bundle, and per host a role with the shape's statements and an instance that fetches, verifies
// and applies its bundle at boot. The site's Elastic IP is pre-allocated: only the lb pair may move it.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { bundleKey } from '../cloud/bundle.ts';
import { FLOW_LOG, INSTANCE } from '../cloud/instance.ts';
import type { GroupName, SecurityRule } from '../cloud/security.ts';
import type { AwsSiteShape, CloudHost } from '../cloud/shape.ts';
import { bundleFile } from '../cloud/staging.ts';
import { userData } from '../cloud/userdata.ts';
import { hostVersion, readinessStackName, readinessTemplate, ROLLOUT } from '../cloud/rollout.ts';
import { endpointService } from '../cloud/network.ts';
import { privateBucket } from './bucket.ts';
import { policyJson, statementJson, type ArnContext, type PolicyStatementJson } from './policy.ts';

export interface AwsSiteArgs {
  shape: AwsSiteShape;
  account: string;
  /** The site's pinned availability zones (the model's); subnet azIndex picks one (wraps around). */
  zones: string[];
  partition: pulumi.Input<string>;
  /** The pinned Debian 12 AMI of the region. */
  ami: string;
  provider: aws.Provider;
}

export function awsSite(args: AwsSiteArgs) {
  const { shape, provider } = args;
  const id = shape.site.id;
  const opts = { provider };

  // Network: the model's subnets behind the internet gateway's route table (the Elastic IP on the
  // VIP needs it), none mapping public addresses; the egress block with the NAT gateway's public
  // subnet and per host zone an egress subnet routed to it (lib/cloud/network.ts).
  const vpc = new aws.ec2.Vpc(`${id}-vpc`, { cidrBlock: shape.network.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `anycdn-${id}` } }, opts);
  const igw = new aws.ec2.InternetGateway(`${id}-igw`, { vpcId: vpc.id }, opts);
  const routes = new aws.ec2.RouteTable(`${id}-routes`, { vpcId: vpc.id }, opts);
  new aws.ec2.Route(`${id}-default-route`, { routeTableId: routes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id }, opts);
  const subnets = new Map<string, aws.ec2.Subnet>();
  for (const s of shape.network.subnets) {
    const subnet = new aws.ec2.Subnet(`${id}-subnet-${s.name}`, {
      vpcId: vpc.id,
      cidrBlock: s.cidr,
      availabilityZone: args.zones[s.azIndex % args.zones.length]!,
      // No public addresses: clients reach only the Elastic IP on the VIP and the accelerator.
      mapPublicIpOnLaunch: false,
      tags: { Name: `anycdn-${id}-${s.name}` },
    }, opts);
    new aws.ec2.RouteTableAssociation(`${id}-subnet-${s.name}-routes`, { subnetId: subnet.id, routeTableId: routes.id }, opts);
    subnets.set(s.name, subnet);
  }
  // One explicit reservation per model address (lib/cloud/network.ts): EC2 never makes one an
  // instance's primary address, so every host's claim finds its address free.
  const reservations = shape.network.reservations.map(
    (r) => new aws.ec2.SubnetCidrReservation(`${id}-reserve-${r.cidr.replace(/\/32$/, '')}`, { subnetId: subnets.get(r.subnet)!.id, cidrBlock: r.cidr, reservationType: 'explicit', description: `anycdn ${id}: a model address, claimed by a host or keepalived, never picked by EC2` }, opts),
  );
  const egress = shape.network.egress;
  const block = new aws.ec2.VpcIpv4CidrBlockAssociation(`${id}-egress-block`, { vpcId: vpc.id, cidrBlock: egress.cidr }, opts);
  const natSubnet = new aws.ec2.Subnet(`${id}-subnet-nat`, { vpcId: block.vpcId, cidrBlock: egress.natSubnet.cidr, availabilityZone: args.zones[egress.natSubnet.zoneIndex]!, mapPublicIpOnLaunch: false, tags: { Name: `anycdn-${id}-nat` } }, { ...opts, dependsOn: [block] });
  new aws.ec2.RouteTableAssociation(`${id}-subnet-nat-routes`, { subnetId: natSubnet.id, routeTableId: routes.id }, opts);
  const natAddress = new aws.ec2.Eip(`${id}-nat`, { domain: 'vpc', tags: { Name: `anycdn-${id}-nat` } }, opts);
  const nat = new aws.ec2.NatGateway(`${id}-nat`, { subnetId: natSubnet.id, allocationId: natAddress.allocationId, connectivityType: 'public', tags: { Name: `anycdn-${id}` } }, { ...opts, dependsOn: [igw] });
  const egressRoutes = new aws.ec2.RouteTable(`${id}-egress-routes`, { vpcId: vpc.id }, opts);
  const egressRoute = new aws.ec2.Route(`${id}-egress-default-route`, { routeTableId: egressRoutes.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id }, opts);
  const egressSubnets = new Map<string, aws.ec2.Subnet>();
  for (const e of egress.subnets) {
    const subnet = new aws.ec2.Subnet(`${id}-subnet-egress-${e.zoneIndex}`, { vpcId: block.vpcId, cidrBlock: e.cidr, availabilityZone: args.zones[e.zoneIndex]!, mapPublicIpOnLaunch: false, tags: { Name: `anycdn-${id}-egress-${args.zones[e.zoneIndex]!}` } }, { ...opts, dependsOn: [block] });
    new aws.ec2.RouteTableAssociation(`${id}-subnet-egress-${e.zoneIndex}-routes`, { subnetId: subnet.id, routeTableId: egressRoutes.id }, opts);
    egressSubnets.set(e.cidr, subnet);
  }
  // Both tables reach the region's S3 without the NAT gateway (and its per-GB charge).
  for (const e of shape.network.gatewayEndpoints) {
    new aws.ec2.VpcEndpoint(`${id}-endpoint-${e}`, { vpcId: vpc.id, serviceName: endpointService(shape.region, e), vpcEndpointType: 'Gateway', routeTableIds: [routes.id, egressRoutes.id] }, opts);
  }

  // Rejected flows of the VPC, as the CDK app logs them.
  const flowLogGroup = new aws.cloudwatch.LogGroup(`${id}-flow-log`, { retentionInDays: FLOW_LOG.retentionDays }, opts);
  const flowLogRole = new aws.iam.Role(`${id}-flow-log`, { assumeRolePolicy: assumeRole('vpc-flow-logs.amazonaws.com') }, opts);
  new aws.iam.RolePolicy(`${id}-flow-log`, {
    role: flowLogRole.id,
    policy: policyJson([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: flowLogGroup.arn },
      { Effect: 'Allow', Action: 'iam:PassRole', Resource: flowLogRole.arn },
    ]),
  }, opts);
  new aws.ec2.FlowLog(`${id}-flow-log`, { vpcId: vpc.id, trafficType: FLOW_LOG.trafficType, logDestinationType: 'cloud-watch-logs', logDestination: flowLogGroup.arn, iamRoleArn: flowLogRole.arn }, opts);

  // Security groups: no inline rules (the provider then drops AWS's default allow-all egress),
  // one rule resource per shape rule.
  const groups = new Map<GroupName, aws.ec2.SecurityGroup>();
  for (const g of shape.securityGroups) {
    groups.set(g.name, new aws.ec2.SecurityGroup(`${id}-${g.name}-sg`, { vpcId: vpc.id, description: g.description, revokeRulesOnDelete: true }, opts));
  }
  for (const g of shape.securityGroups) {
    const sg = groups.get(g.name)!;
    for (const r of g.ingress) new aws.vpc.SecurityGroupIngressRule(`${id}-${g.name}-in-${ruleName(r)}`, { securityGroupId: sg.id, ...ruleArgs(r, groups, 'in') }, opts);
    for (const r of g.egress) new aws.vpc.SecurityGroupEgressRule(`${id}-${g.name}-out-${ruleName(r)}`, { securityGroupId: sg.id, ...ruleArgs(r, groups, 'out') }, opts);
  }

  // The hosts' bundles, in a private bucket of the site (the CDK app uses its asset bucket).
  const config = privateBucket(`${id}-config`, {}, opts);

  const instances: Record<string, pulumi.Output<string>> = {};
  let previous: pulumi.Resource | undefined;
  for (const h of shape.hosts) {
    const { instance, ready } = host(h, { ...args, bucket: config.bucket, subnets, subnet: subnets.get(h.subnet)!, egressSubnet: egressSubnets.get(h.egress.subnet)!, egressRoute, reservations, groups: h.groups.map((g) => groups.get(g)!), previous, policy: config.policy });
    instances[h.host.name] = instance.id;
    previous = ready;
  }
  return {
    instanceIds: instances,
    configBucket: config.bucket.bucket,
    imageVip: `${shape.site.vip.address} (Elastic IP ${shape.elasticIp.address}, ${shape.elasticIp.allocationId})`,
  };
}

interface HostArgs extends AwsSiteArgs {
  bucket: aws.s3.Bucket;
  policy: aws.s3.BucketPolicy;
  subnet: aws.ec2.Subnet;
  subnets: Map<string, aws.ec2.Subnet>;
  /** The egress subnet of the host's zone, and its route through the NAT gateway. */
  egressSubnet: aws.ec2.Subnet;
  egressRoute: aws.ec2.Route;
  /** The model addresses' reservations: the instance launches after them. */
  reservations: aws.ec2.SubnetCidrReservation[];
  groups: aws.ec2.SecurityGroup[];
  /** The previous host's health gate: this host starts only after it is satisfied. */
  previous: pulumi.Resource | undefined;
}

function host(h: CloudHost, a: HostArgs): { instance: aws.ec2.Instance; ready: aws.cloudformation.Stack } {
  const name = h.host.name;
  const opts = { provider: a.provider };
  const key = bundleKey(name);
  const bundle = new aws.s3.BucketObjectv2(`${name}-bundle`, {
    bucket: a.bucket.id,
    key,
    source: new pulumi.asset.FileAsset(bundleFile(h.bundle)),
    sourceHash: h.bundle.sha256,
    // S3 checks the upload against a SHA-256 of its own; the host checks the bundle_sha256 below.
    checksumAlgorithm: 'SHA256',
    contentType: 'application/gzip',
  }, { ...opts, dependsOn: [a.policy] });

  const version = hostVersion(h.version, a.ami);
  const readyStack = readinessStackName(a.shape.site.id, name, version.gateKey);
  const role = new aws.iam.Role(`${name}-role`, { path: h.rolePath, description: h.roleDescription, assumeRolePolicy: assumeRole('ec2.amazonaws.com') }, opts);
  const ctx: ArnContext = { partition: a.partition, region: a.shape.region, account: a.account, ownBundle: { bucket: bundle.bucket, key }, subnetIds: Object.fromEntries([...a.subnets].map(([n, s]) => [n, s.id])) };
  // The health gate's handle (below): the host looks up its URL in its own readiness stacks only.
  const findHandle: PolicyStatementJson = {
    Sid: READINESS_SID,
    Effect: 'Allow',
    Action: 'cloudformation:DescribeStackResource',
    Resource: pulumi.interpolate`arn:${a.partition}:cloudformation:${a.shape.region}:${a.account}:stack/${readinessStackName(a.shape.site.id, name, '*')}/*`,
  };
  new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: policyJson([...h.statements.map((st) => statementJson(st, ctx)), findHandle]) }, opts);
  for (const p of h.managedPolicies) {
    new aws.iam.RolePolicyAttachment(`${name}-${p}`, { role: role.name, policyArn: pulumi.interpolate`arn:${a.partition}:iam::aws:policy/${p}` }, opts);
  }
  const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, opts);

  // The CDK app's versions (lib/cloud/rollout.ts): one instance per replacement key, with no fixed
  // address of its own; the bootstrap claims the model address, so a replacement created before the
  // old instance is deleted takes it over.
  // The primary interface carries the host's tags from launch (lib/cloud/iam.ts resourceTags).
  const interfaceTags = new aws.ec2.LaunchTemplate(`${name}-interface-tags`, {
    tagSpecifications: [{ resourceType: 'network-interface', tags: h.interfaceTags }],
  }, opts);
  const instance = new aws.ec2.Instance(`${name}-instance-${version.replacementKey}`, {
    launchTemplate: { id: interfaceTags.id, version: pulumi.interpolate`${interfaceTags.latestVersion}` },
    ami: a.ami,
    instanceType: h.instanceType,
    subnetId: a.subnet.id,
    // No public address of its own (docs/deploy-cdk.md "Network and egress").
    associatePublicIpAddress: false,
    vpcSecurityGroupIds: a.groups.map((g) => g.id),
    iamInstanceProfile: profile.name,
    userData: pulumi.interpolate`s3://${bundle.bucket}/${bundle.key}`.apply((bundleUrl) =>
      userData({
        host: name,
        region: a.shape.region,
        bundleUrl,
        bundleSha256: h.bundle.sha256,
        packages: h.packages,
        units: h.units,
        address: h.address,
        egress: h.egress,
        ...(h.forwardFromPrimary ? { forwardFromPrimary: h.forwardFromPrimary } : {}),
        readiness: { signal: { stack: readyStack }, probes: h.readiness.probes, attempts: ROLLOUT.attempts, intervalSec: ROLLOUT.intervalSec },
      }),
    ),
    // A changed bundle stops and starts the instance with the new user data (as CloudFormation does).
    userDataReplaceOnChange: false,
    metadataOptions: { httpEndpoint: 'enabled', httpTokens: INSTANCE.httpTokens, httpPutResponseHopLimit: INSTANCE.httpPutResponseHopLimit },
    monitoring: INSTANCE.detailedMonitoring,
    disableApiTermination: INSTANCE.disableApiTermination,
    rootBlockDevice: { volumeSize: h.rootVolumeGiB, volumeType: INSTANCE.volumeType, encrypted: INSTANCE.encrypted, deleteOnTermination: INSTANCE.deleteOnTermination },
    tags: { Name: name },
    volumeTags: { Name: name, 'anycdn:site': a.shape.site.id },
  }, {
    ...opts,
    // One host at a time: a bundle change restarts each instance, so a chain keeps the rest of
    // the site serving while one host restarts. After the egress route: the bootstrap needs it.
    dependsOn: [a.egressRoute, ...a.reservations, ...(a.previous ? [a.previous] : [])],
  });
  // The second interface, one per instance version (a replacement brings its own): in the egress
  // subnet of the host's zone, with the host's groups. The provider attaches it once the instance
  // runs; the bootstrap waits for its address (lib/cloud/userdata.ts).
  const eni = new aws.ec2.NetworkInterface(`${name}-egress-${version.replacementKey}`, {
    subnetId: a.egressSubnet.id,
    securityGroups: a.groups.map((g) => g.id),
    description: `${name}: egress through the NAT gateway`,
    tags: { Name: `${name}-egress`, ...h.interfaceTags },
  }, opts);
  const attachment = new aws.ec2.NetworkInterfaceAttachment(`${name}-egress-${version.replacementKey}`, { instanceId: instance.id, networkInterfaceId: eni.id, deviceIndex: 1 }, opts);
  // The health gate, one per version of the host (as CDK's wait condition): creating this stack
  // waits until the host signals; FAILURE or silence fails `pulumi up` here, before the next host.
  const ready = new aws.cloudformation.Stack(`${name}-ready-${version.gateKey}`, {
    name: readyStack,
    templateBody: JSON.stringify(readinessTemplate(name)),
    parameters: { Instance: instance.id },
    onFailure: 'DELETE',
  }, { ...opts, dependsOn: [attachment], customTimeouts: { create: `${Math.ceil(ROLLOUT.timeoutSec / 60) + 10}m` } });
  return { instance, ready };
}

/** The Pulumi-only statement of a host role: finding its health gate's handle. */
export const READINESS_SID = 'FindOwnReadinessHandle';

function ruleArgs(r: SecurityRule, groups: Map<GroupName, aws.ec2.SecurityGroup>, dir: 'in' | 'out') {
  const peer = 'anyIpv4' in r.peer ? { cidrIpv4: '0.0.0.0/0' } : 'cidrIpv4' in r.peer ? { cidrIpv4: r.peer.cidrIpv4 } : { referencedSecurityGroupId: groups.get(r.peer.group)!.id };
  if (r.protocol === 'vrrp') return { ipProtocol: '112', description: r.description, ...peer };
  if (r.port === undefined) throw new Error(`internal: ${r.protocol} rule without a port (${dir})`);
  return { ipProtocol: r.protocol, fromPort: r.port, toPort: r.port, description: r.description, ...peer };
}

/** A stable resource name per rule: protocol, port and peer (a duplicate is a duplicate URN). */
function ruleName(r: SecurityRule): string {
  const what = r.protocol === 'vrrp' ? 'vrrp' : `${r.protocol}${r.port}`;
  return `${what}-${'anyIpv4' in r.peer ? 'any' : 'cidrIpv4' in r.peer ? r.peer.cidrIpv4.replace(/[./]/g, '-') : r.peer.group}`;
}

function assumeRole(service: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
}
