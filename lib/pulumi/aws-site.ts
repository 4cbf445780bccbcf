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
import { hostVersion } from '../cloud/rollout.ts';
import { endpointService } from '../cloud/network.ts';
import { privateBucket } from './bucket.ts';
import { policyJson, statementJson, type ArnContext } from './policy.ts';

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

  // Network: the model's subnets, public, behind one route table.
  const vpc = new aws.ec2.Vpc(`${id}-vpc`, { cidrBlock: shape.network.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `anycdn-${id}` } }, opts);
  const igw = new aws.ec2.InternetGateway(`${id}-igw`, { vpcId: vpc.id }, opts);
  const routes = new aws.ec2.RouteTable(`${id}-routes`, { vpcId: vpc.id }, opts);
  new aws.ec2.Route(`${id}-default-route`, { routeTableId: routes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id }, opts);
  for (const e of shape.network.gatewayEndpoints) {
    new aws.ec2.VpcEndpoint(`${id}-endpoint-${e}`, { vpcId: vpc.id, serviceName: endpointService(shape.region, e), vpcEndpointType: 'Gateway', routeTableIds: [routes.id] }, opts);
  }
  const subnets = new Map<string, aws.ec2.Subnet>();
  for (const s of shape.network.subnets) {
    const subnet = new aws.ec2.Subnet(`${id}-subnet-${s.name}`, {
      vpcId: vpc.id,
      cidrBlock: s.cidr,
      availabilityZone: args.zones[s.azIndex % args.zones.length]!,
      // Public addresses give the hosts apt, S3 and SSM without a NAT gateway; the security
      // groups admit nothing but each role's service ports.
      mapPublicIpOnLaunch: true,
      tags: { Name: `anycdn-${id}-${s.name}` },
    }, opts);
    new aws.ec2.RouteTableAssociation(`${id}-subnet-${s.name}-routes`, { subnetId: subnet.id, routeTableId: routes.id }, opts);
    subnets.set(s.name, subnet);
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
  let previous: aws.ec2.Instance | undefined;
  for (const h of shape.hosts) {
    const instance = host(h, { ...args, bucket: config.bucket, subnets, subnet: subnets.get(h.subnet)!, groups: h.groups.map((g) => groups.get(g)!), previous, policy: config.policy });
    instances[h.host.name] = instance.id;
    previous = instance;
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
  groups: aws.ec2.SecurityGroup[];
  previous: aws.ec2.Instance | undefined;
}

function host(h: CloudHost, a: HostArgs): aws.ec2.Instance {
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

  const role = new aws.iam.Role(`${name}-role`, { path: h.rolePath, description: h.roleDescription, assumeRolePolicy: assumeRole('ec2.amazonaws.com') }, opts);
  const ctx: ArnContext = { partition: a.partition, region: a.shape.region, account: a.account, ownBundle: { bucket: bundle.bucket, key }, subnetIds: Object.fromEntries([...a.subnets].map(([n, s]) => [n, s.id])) };
  new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: policyJson(h.statements.map((st) => statementJson(st, ctx))) }, opts);
  for (const p of h.managedPolicies) {
    new aws.iam.RolePolicyAttachment(`${name}-${p}`, { role: role.name, policyArn: pulumi.interpolate`arn:${a.partition}:iam::aws:policy/${p}` }, opts);
  }
  const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, opts);

  // The CDK app's versions (lib/cloud/rollout.ts): one instance per replacement key, with no fixed
  // address of its own; the bootstrap claims the model address, so a replacement created before the
  // old instance is deleted takes it over.
  const version = hostVersion(h.version, a.ami);
  return new aws.ec2.Instance(`${name}-instance-${version.replacementKey}`, {
    ami: a.ami,
    instanceType: h.instanceType,
    subnetId: a.subnet.id,
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
        ...(h.forwardFromPrimary ? { forwardFromPrimary: h.forwardFromPrimary } : {}),
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
    // the site serving while one host restarts.
    dependsOn: a.previous ? [a.previous] : [],
  });
}

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
