// The Pulumi program under strict mocks, stack by stack: what an auditor checks first. Resource
// types and counts, the provider binding, security-group rules, IMDSv2 and disks, IAM statements,
// and that every bundle object holds exactly its host's rendered bundle.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as aws from '@pulumi/aws';
import { hostBundles, sha256, type HostBundle } from '../../lib/cloud/bundle.ts';
import { renderTopology } from '../../lib/render/index.ts';
import { load } from '../model/fixtures.ts';
import { shippedTexts } from '../helpers/topology.ts';
import { ACCOUNT, AMI, runStack, stackName, type Recorded, type Run } from './harness.ts';

const T = {
  provider: 'pulumi:providers:aws',
  bucket: 'aws:s3/bucket:Bucket',
  object: 'aws:s3/bucketObjectv2:BucketObjectv2',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  instance: 'aws:ec2/instance:Instance',
  sg: 'aws:ec2/securityGroup:SecurityGroup',
  ingress: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  egress: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  attachment: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  policy: 'aws:iam/policy:Policy',
  subnet: 'aws:ec2/subnet:Subnet',
  parameter: 'aws:ssm/parameter:Parameter',
} as const;

const runs: Record<string, Run> = {};
let bundles: HostBundle[];

beforeAll(async () => {
  bundles = hostBundles(renderTopology(load(shippedTexts())));
  for (const s of ['origin', 'ams', 'nyc', 'sin']) runs[s] = await runStack(s);
  runs.global = await runStack('global', { stackOutputs: { [stackName('sin')]: runs.sin!.outputs } });
});

function counts(run: Run): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of run.resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const doc = (r: Recorded) => JSON.parse(r.inputs.policy) as { Statement: any[] };

describe('resource types and counts', () => {
  const BUCKET = {
    'aws:s3/bucket:Bucket': 1,
    'aws:s3/bucketOwnershipControls:BucketOwnershipControls': 1,
    'aws:s3/bucketPolicy:BucketPolicy': 1,
    'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': 1,
    'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': 1,
    'aws:s3/bucketVersioning:BucketVersioning': 1,
  };
  it.each([
    ['origin', { ...BUCKET, 'pulumi:providers:aws': 1 }],
    ['ams', { ...BUCKET, 'aws:cloudwatch/metricAlarm:MetricAlarm': 1, 'aws:iam/policy:Policy': 4, 'aws:route53/healthCheck:HealthCheck': 1, 'aws:s3/bucketObjectv2:BucketObjectv2': 4, 'aws:ssm/parameter:Parameter': 4, 'pulumi:providers:aws': 1 }],
    ['nyc', { ...BUCKET, 'aws:cloudwatch/metricAlarm:MetricAlarm': 1, 'aws:iam/policy:Policy': 4, 'aws:route53/healthCheck:HealthCheck': 1, 'aws:s3/bucketObjectv2:BucketObjectv2': 4, 'aws:ssm/parameter:Parameter': 4, 'pulumi:providers:aws': 1 }],
    ['sin', {
      ...BUCKET,
      'aws:cloudformation/stack:Stack': 4,
      'aws:cloudwatch/logGroup:LogGroup': 1,
      'aws:ec2/eip:Eip': 1,
      'aws:ec2/flowLog:FlowLog': 1,
      'aws:ec2/instance:Instance': 4,
      'aws:ec2/internetGateway:InternetGateway': 1,
      'aws:ec2/launchTemplate:LaunchTemplate': 4,
      'aws:ec2/natGateway:NatGateway': 1,
      'aws:ec2/networkInterface:NetworkInterface': 4,
      'aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment': 4,
      'aws:ec2/route:Route': 2,
      'aws:ec2/routeTable:RouteTable': 2,
      'aws:ec2/routeTableAssociation:RouteTableAssociation': 3,
      'aws:ec2/securityGroup:SecurityGroup': 4,
      'aws:ec2/subnet:Subnet': 3,
      // One explicit reservation per model address: 4 hosts and the VIP.
      'aws:ec2/subnetCidrReservation:SubnetCidrReservation': 5,
      'aws:ec2/vpc:Vpc': 1,
      'aws:ec2/vpcEndpoint:VpcEndpoint': 1,
      'aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation': 1,
      'aws:iam/instanceProfile:InstanceProfile': 4,
      'aws:iam/role:Role': 5,
      'aws:iam/rolePolicy:RolePolicy': 5,
      'aws:iam/rolePolicyAttachment:RolePolicyAttachment': 4,
      'aws:s3/bucketObjectv2:BucketObjectv2': 4,
      // base 80 and 443 out; caches: the S3 origin (443) and the shield VIP (80).
      'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': 5,
      // and Prometheus (monitoring.scrapeFrom) to node (base), haproxy (lb), nginx and mtail (cache).
      'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule': 10,
      'pulumi:providers:aws': 1,
    }],
    ['global', {
      'aws:globalaccelerator/accelerator:Accelerator': 1,
      'aws:globalaccelerator/endpointGroup:EndpointGroup': 2,
      'aws:globalaccelerator/listener:Listener': 2,
      'pulumi:providers:aws': 1,
      'pulumi:pulumi:StackReference': 1,
    }],
  ])('%s', (stack, expected) => {
    expect(counts(runs[stack]!)).toEqual(Object.fromEntries(Object.entries(expected).sort(([a], [b]) => (a < b ? -1 : 1))));
  });
});

describe('the provider', () => {
  it.each(['origin', 'ams', 'nyc', 'sin', 'global'])('%s: one, bound to the account and the model region, used by every resource and call', (stack) => {
    const run = runs[stack]!;
    const [provider] = run.ofType(T.provider);
    expect(provider!.inputs).toMatchObject({ region: run.region, allowedAccountIds: JSON.stringify([ACCOUNT]) });
    const ref = `${provider!.id}`;
    const aws = run.resources.filter((r) => r.type.startsWith('aws:'));
    expect(aws.length).toBeGreaterThan(0);
    for (const r of aws) expect(r.provider, `${r.type} ${r.name}`).toMatch(new RegExp(`::${ref}$`));
    for (const c of run.calls) expect(c.provider, c.token).toMatch(new RegExp(`::${ref}$`));
  });

  it('tags the stack as the CDK app does', () => {
    expect(JSON.parse(runs.sin!.ofType(T.provider)[0]!.inputs.defaultTags)).toEqual({ tags: { 'anycdn:site': 'sin' } });
    expect(JSON.parse(runs.global!.ofType(T.provider)[0]!.inputs.defaultTags)).toEqual({ tags: { 'anycdn:part': 'global' } });
  });
});

describe('sin: security groups', () => {
  function rules(run: Run): string[] {
    const groupName = (id: string) => run.byId(id)!.name.replace(/^sin-/, '').replace(/-sg$/, '');
    const fmt = (dir: string, r: Recorded) => {
      const proto = r.inputs.ipProtocol === '112' ? 'vrrp' : `${r.inputs.ipProtocol}/${r.inputs.fromPort}-${r.inputs.toPort}`;
      const peer = r.inputs.cidrIpv4 ?? `sg:${groupName(r.inputs.referencedSecurityGroupId)}`;
      return `${groupName(r.inputs.securityGroupId)} ${dir} ${proto} ${dir === 'in' ? 'from' : 'to'} ${peer}`;
    };
    return [...run.ofType(T.ingress).map((r) => fmt('in', r)), ...run.ofType(T.egress).map((r) => fmt('out', r))].sort();
  }

  it('open only 80/tcp to the lb hosts and 53/udp+tcp plus the checker\'s 8053/tcp to the dns hosts; VRRP between the lb pair; caches from the lb hosts only; exporters to the scrape subnet only', () => {
    expect(rules(runs.sin!)).toEqual([
      'base in tcp/9100-9100 from 198.51.100.192/28',
      'base out tcp/443-443 to 0.0.0.0/0',
      'cache in tcp/3903-3903 from 198.51.100.192/28',
      'cache in tcp/80-80 from sg:lb',
      'cache in tcp/9113-9113 from 198.51.100.192/28',
      'cache out tcp/443-443 to 0.0.0.0/0',
      'cache out tcp/80-80 to 198.51.100.10/32',
      'dns in tcp/53-53 from 0.0.0.0/0',
      'dns in tcp/8053-8053 from 0.0.0.0/0',
      'dns in udp/53-53 from 0.0.0.0/0',
      'lb in tcp/80-80 from 0.0.0.0/0',
      'lb in tcp/9101-9101 from 198.51.100.192/28',
      'lb in vrrp from sg:lb',
      'lb out tcp/80-80 to sg:cache',
      'lb out vrrp to sg:lb',
    ]);
  });

  it('have no inline rules (so the provider drops the default allow-all egress) and no SSH anywhere', () => {
    for (const sg of runs.sin!.ofType(T.sg)) {
      expect(sg.inputs.ingress, sg.name).toBeUndefined();
      expect(sg.inputs.egress, sg.name).toBeUndefined();
      expect(sg.inputs.revokeRulesOnDelete).toBe(true);
    }
    expect([...runs.sin!.ofType(T.ingress), ...runs.sin!.ofType(T.egress)].filter((r) => r.inputs.fromPort === 22)).toEqual([]);
  });

  it('reach S3 through a gateway endpoint on both route tables', () => {
    const routes = runs.sin!.get('aws:ec2/routeTable:RouteTable', 'sin-routes');
    const egress = runs.sin!.get('aws:ec2/routeTable:RouteTable', 'sin-egress-routes');
    expect(runs.sin!.get('aws:ec2/vpcEndpoint:VpcEndpoint', 'sin-endpoint-s3').inputs).toMatchObject({ serviceName: 'com.amazonaws.ap-southeast-1.s3', vpcEndpointType: 'Gateway', routeTableIds: [routes.id, egress.id] });
  });

  it('map no public address anywhere; the egress subnet routes to the NAT gateway, which sits in a subnet routed to the internet gateway', () => {
    const run = runs.sin!;
    expect(run.ofType(T.subnet).map((x) => `${x.inputs.cidrBlock} ${x.inputs.mapPublicIpOnLaunch}`).sort()).toEqual(['10.30.0.0/24 false', '100.64.0.0/27 false', '100.64.0.32/27 false']);
    const tableOf = (subnet: string) => run.ofType('aws:ec2/routeTableAssociation:RouteTableAssociation').find((a) => a.inputs.subnetId === run.get(T.subnet, subnet).id)!.inputs.routeTableId;
    const defaultOf = (table: string) => run.ofType('aws:ec2/route:Route').find((r) => r.inputs.routeTableId === table && r.inputs.destinationCidrBlock === '0.0.0.0/0')!.inputs;
    const nat = run.get('aws:ec2/natGateway:NatGateway', 'sin-nat');
    expect(defaultOf(tableOf('sin-subnet-egress-0')).natGatewayId).toBe(nat.id);
    expect(nat.inputs).toMatchObject({ subnetId: run.get(T.subnet, 'sin-subnet-nat').id, connectivityType: 'public', allocationId: run.get('aws:ec2/eip:Eip', 'sin-nat').id });
    expect(run.byId(defaultOf(tableOf('sin-subnet-nat')).gatewayId)!.type).toBe('aws:ec2/internetGateway:InternetGateway');
    expect(tableOf('sin-subnet-public')).toBe(tableOf('sin-subnet-nat'));
    for (const i of run.ofType(T.instance)) {
      expect(i.inputs.associatePublicIpAddress, i.name).toBe(false);
      const eni = run.byId(run.ofType('aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment').find((x) => x.inputs.instanceId === i.id)!.inputs.networkInterfaceId)!;
      expect(eni.inputs.subnetId, i.name).toBe(run.get(T.subnet, 'sin-subnet-egress-0').id);
      expect([...eni.inputs.securityGroups].sort()).toEqual([...i.inputs.vpcSecurityGroupIds].sort());
      expect(i.inputs.userData).toContain(`EGRESS_SUBNET='100.64.0.32/27'\nEGRESS_ROUTER='100.64.0.33'`);
    }
  });

  it('put each host in base plus one group per role', () => {
    const groups = (host: string) => instanceOf(runs.sin!, host).inputs.vpcSecurityGroupIds.map((id: string) => runs.sin!.byId(id)!.name).sort();
    expect(groups('sin-lb1')).toEqual(['sin-base-sg', 'sin-dns-sg', 'sin-lb-sg']);
    expect(groups('sin-cache1')).toEqual(['sin-base-sg', 'sin-cache-sg']);
  });
});

/** The one instance of a host (its name carries the replacement key). */
function instanceOf(run: Run, host: string): Recorded {
  const found = run.ofType(T.instance).filter((r) => r.inputs.tags?.Name === host);
  if (found.length !== 1) throw new Error(`${found.length} instances of ${host}`);
  return found[0]!;
}

describe('sin: instances', () => {
  const HOSTS = { 'sin-cache1': '10.30.0.21', 'sin-cache2': '10.30.0.22', 'sin-lb1': '10.30.0.11', 'sin-lb2': '10.30.0.12' };

  it('exist once per host, named by its replacement key, in the model subnet and pinned zone, from the pinned AMI, claiming the model address at boot', () => {
    const run = runs.sin!;
    expect(run.ofType(T.instance).map((r) => r.name.replace(/-[0-9a-f]{12}$/, '-<key>')).sort()).toEqual(Object.keys(HOSTS).map((h) => `${h}-instance-<key>`));
    const subnet = run.get(T.subnet, 'sin-subnet-public');
    expect(subnet.inputs).toMatchObject({ cidrBlock: '10.30.0.0/24', availabilityZone: 'ap-southeast-1a', mapPublicIpOnLaunch: false });
    for (const [host, address] of Object.entries(HOSTS)) {
      const i = instanceOf(run, host);
      expect(i.inputs).toMatchObject({ subnetId: subnet.id, ami: AMI, tags: { Name: host }, associatePublicIpAddress: false });
      expect(i.inputs.privateIp, host).toBeUndefined();
      expect(i.inputs.userData).toContain(`ADDRESS='${address}'\nSUBNET='10.30.0.0/24'\nROUTER='10.30.0.1'\nVPC_CIDR='10.30.0.0/24'\nINTERFACE='ens5'`);
    }
    // The mocks answer no AZ or SSM lookups: the zone and the AMI come from the model and config.
    expect(run.calls.map((c) => c.token).filter((tk) => /getAvailabilityZones|ssm/.test(tk))).toEqual([]);
  });

  it('require IMDSv2 with one hop, encrypt a gp3 root, monitor in detail, and let a replacement terminate them', () => {
    for (const i of runs.sin!.ofType(T.instance)) {
      expect(i.inputs.metadataOptions, i.name).toEqual({ httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 });
      expect(i.inputs.rootBlockDevice, i.name).toMatchObject({ encrypted: true, volumeType: 'gp3', deleteOnTermination: true });
      expect(i.inputs).toMatchObject({ monitoring: true, disableApiTermination: false });
    }
  });

  it('size cache disks from the model: 16 GiB base plus the nginx cache and 10%', () => {
    expect(instanceOf(runs.sin!, 'sin-cache1').inputs.rootBlockDevice.volumeSize).toBe(16 + Math.ceil(50 * 1.1));
    expect(instanceOf(runs.sin!, 'sin-lb1').inputs.rootBlockDevice.volumeSize).toBe(16);
  });
});

describe('sin: the health gate (the twin of CDK\'s wait conditions)', () => {
  const stacks = () => runs.sin!.ofType('aws:cloudformation/stack:Stack');
  const gateOf = (host: string) => {
    const i = instanceOf(runs.sin!, host);
    const found = stacks().filter((st) => st.inputs.parameters?.Instance === i.id);
    expect(found, host).toHaveLength(1);
    return found[0]!;
  };

  it('gives every host version a CloudFormation stack whose creation waits for the host\'s signal, 30 minutes at most, and is deleted on failure', () => {
    for (const host of ['sin-cache1', 'sin-cache2', 'sin-lb1', 'sin-lb2']) {
      const gate = gateOf(host);
      expect(gate.name).toMatch(new RegExp(`^${host}-ready-[0-9a-f]{12}$`));
      expect(gate.inputs.name).toBe(`anycdn-sin-${gate.name}`);
      expect(gate.inputs.onFailure).toBe('DELETE');
      expect(JSON.parse(gate.inputs.templateBody).Resources).toEqual({
        Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
        Ready: { Type: 'AWS::CloudFormation::WaitCondition', Properties: { Handle: { Ref: 'Handle' }, Timeout: '1800', Count: 1 } },
      });
    }
  });

  it('has the host look up that stack\'s handle and signal it after its checks, as the CDK hosts do', () => {
    for (const host of ['sin-cache1', 'sin-lb1']) {
      const ud = instanceOf(runs.sin!, host).inputs.userData as string;
      expect(ud).toContain(`SIGNAL_STACK='${gateOf(host).inputs.name}'`);
      expect(ud).toContain('--logical-resource-id Handle --query StackResourceDetail.PhysicalResourceId');
      expect(ud).toContain(`signal SUCCESS "$HOST: units active, probes green"`);
      expect(ud).toContain(`trap 'signal FAILURE "bootstrap of $HOST failed at line $LINENO"' ERR`);
    }
    expect(instanceOf(runs.sin!, 'sin-lb1').inputs.userData).toContain(`PROBES='http://10.30.0.11:8053/anycast'`);
    expect(instanceOf(runs.sin!, 'sin-cache1').inputs.userData).toContain(`PROBES='http://10.30.0.21:80/.anycdn/health'`);
  });

  it('lets each host find only its own gates\' handle', () => {
    for (const host of ['sin-cache1', 'sin-lb1']) {
      const st = doc(runs.sin!.get(T.rolePolicy, `${host}-policy`)).Statement.find((x: any) => x.Sid === 'FindOwnReadinessHandle');
      expect(st).toEqual({ Sid: 'FindOwnReadinessHandle', Effect: 'Allow', Action: 'cloudformation:DescribeStackResource', Resource: `arn:aws:cloudformation:ap-southeast-1:111111111111:stack/anycdn-sin-${host}-ready-*/*` });
    }
  });
});

describe('sin: IAM', () => {
  const statements = (host: string) => doc(runs.sin!.get(T.rolePolicy, `${host}-policy`)).Statement;
  const bucket = () => runs.sin!.outputs.configBucket as string;

  it('gives lb hosts the Elastic IP move, scoped to the allocation and the VIP subnet', () => {
    const subnet = runs.sin!.get(T.subnet, 'sin-subnet-public').id;
    expect(statements('sin-lb1')).toEqual([
      { Sid: 'ReadOwnBundle', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket()}/sin-lb1/bundle.tar.gz` },
      { Sid: 'AssociateSiteElasticIp', Effect: 'Allow', Action: 'ec2:AssociateAddress', Resource: 'arn:aws:ec2:ap-southeast-1:111111111111:elastic-ip/eipalloc-0a1b2c3d4e5f60718' },
      {
        Sid: 'MoveVipOntoOwnInterface',
        Effect: 'Allow',
        Action: ['ec2:AssociateAddress', 'ec2:AssignPrivateIpAddresses'],
        Resource: 'arn:aws:ec2:ap-southeast-1:111111111111:network-interface/*',
        Condition: { ArnEquals: { 'ec2:Subnet': `arn:aws:ec2:ap-southeast-1:111111111111:subnet/${subnet}` }, StringEquals: own('sin-lb1') },
      },
      ...claimStatements(subnet, 'sin-lb1'),
      // A dns host of an acme CDN: the TSIG key of the challenge updates, from SSM.
      { Sid: 'ReadReferencedSecrets', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:ap-southeast-1:111111111111:parameter/anycdn/acme/tsig' },
      readiness('sin-lb1'),
    ]);
  });

  const readiness = (host: string) => ({ Sid: 'FindOwnReadinessHandle', Effect: 'Allow', Action: 'cloudformation:DescribeStackResource', Resource: `arn:aws:cloudformation:ap-southeast-1:111111111111:stack/anycdn-sin-${host}-ready-*/*` });
  const own = (host: string) => ({ 'aws:ResourceTag/anycdn:site': 'sin', 'aws:ResourceTag/anycdn:host': host });
  const claimStatements = (subnet: string, host: string) => [
    {
      Sid: 'ClaimOwnAddressOnOwnInterfaces',
      Effect: 'Allow',
      Action: 'ec2:AssignPrivateIpAddresses',
      Resource: 'arn:aws:ec2:ap-southeast-1:111111111111:network-interface/*',
      Condition: { ArnEquals: { 'ec2:Subnet': `arn:aws:ec2:ap-southeast-1:111111111111:subnet/${subnet}` }, StringEquals: own(host) },
    },
    { Sid: 'FindAddressHolder', Effect: 'Allow', Action: 'ec2:DescribeNetworkInterfaces', Resource: '*' },
  ];

  it('gives caches read and list of the origin bucket, and of EC2 only their address claim', () => {
    const subnet = runs.sin!.get(T.subnet, 'sin-subnet-public').id;
    expect(statements('sin-cache1')).toEqual([
      { Sid: 'ReadOwnBundle', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket()}/sin-cache1/bundle.tar.gz` },
      { Sid: 'ReadOrigin', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::anycdn-example-images/*' },
      { Sid: 'ListOriginSoMissingIs404', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::anycdn-example-images' },
      ...claimStatements(subnet, 'sin-cache1'),
      readiness('sin-cache1'),
    ]);
  });

  it('tags both interfaces of every instance with the tags the address statements require: the primary at launch, the egress interface itself', () => {
    for (const host of ['sin-cache1', 'sin-cache2', 'sin-lb1', 'sin-lb2']) {
      const i = instanceOf(runs.sin!, host);
      const lt = runs.sin!.byId(i.inputs.launchTemplate.id)!;
      expect(lt.inputs.tagSpecifications, host).toEqual([{ resourceType: 'network-interface', tags: { 'anycdn:site': 'sin', 'anycdn:host': host } }]);
      const attachments = runs.sin!.ofType('aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment').filter((x) => x.inputs.instanceId === i.id);
      expect(attachments, host).toHaveLength(1);
      expect(attachments[0]!.inputs.deviceIndex).toBe(1);
      expect(runs.sin!.byId(attachments[0]!.inputs.networkInterfaceId)!.inputs.tags, host).toEqual({ Name: `${host}-egress`, 'anycdn:site': 'sin', 'anycdn:host': host });
    }
  });

  it('puts cache roles under the path the origin bucket admits, attaches SSM core to every host role, and only EC2 assumes them', () => {
    const roles = runs.sin!.ofType(T.role).map((r) => `${r.name} ${r.inputs.path ?? '/'}`).sort();
    expect(roles).toEqual(['sin-cache1-role /anycdn/cache/', 'sin-cache2-role /anycdn/cache/', 'sin-flow-log /', 'sin-lb1-role /anycdn/', 'sin-lb2-role /anycdn/']);
    const attached = runs.sin!.ofType(T.attachment).map((a) => `${a.inputs.role} ${a.inputs.policyArn}`).sort();
    expect(attached).toEqual(['sin-cache1', 'sin-cache2', 'sin-lb1', 'sin-lb2'].map((h) => `${h}-role arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore`));
    for (const r of runs.sin!.ofType(T.role).filter((x) => x.name.endsWith('-role'))) {
      expect(JSON.parse(r.inputs.assumeRolePolicy).Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    }
  });
});

describe('bundles', () => {
  async function published(run: Run, key: string): Promise<Buffer> {
    const objects = run.ofType(T.object).filter((o) => o.inputs.key === key);
    expect(objects, key).toHaveLength(1);
    const source = objects[0]!.inputs.source as { path: Promise<string> } | undefined;
    if (source) return readFileSync(await source.path);
    return Buffer.from(objects[0]!.inputs.content as string, 'utf8');
  }

  it.each(['sin-cache1', 'sin-cache2', 'sin-lb1', 'sin-lb2'])('%s: the object holds exactly its rendered bundle, and the user data fetches and checks it', async (host) => {
    const b = bundles.find((x) => x.host === host)!;
    const run = runs.sin!;
    const bytes = await published(run, `${host}/bundle.tar.gz`);
    expect(bytes.equals(b.archive)).toBe(true);
    expect(sha256(bytes)).toBe(b.sha256);
    const object = run.get(T.object, `${host}-bundle`);
    expect(object.inputs).toMatchObject({ bucket: run.outputs.configBucket, sourceHash: b.sha256, checksumAlgorithm: 'SHA256' });
    const ud = instanceOf(run, host).inputs.userData as string;
    expect(ud).toContain(`BUNDLE_URL='s3://${run.outputs.configBucket}/${host}/bundle.tar.gz'`);
    expect(ud).toContain(`BUNDLE_SHA256='${b.sha256}'`);
  });

  it.each(['ams', 'nyc'])('%s: each host has its bundle in the config bucket and a parameter pointing at it, as CDK names it', async (site) => {
    const run = runs[site]!;
    const mine = bundles.filter((b) => b.site === site);
    expect(mine).toHaveLength(4);
    expect(run.ofType(T.object).map((o) => o.inputs.key).sort()).toEqual(mine.map((b) => `${b.host}/bundle.tar.gz`).sort());
    for (const b of mine) {
      expect(sha256(await published(run, `${b.host}/bundle.tar.gz`))).toBe(b.sha256);
      const pointer = run.get(T.parameter, `${b.host}-bundle-pointer`);
      expect(pointer.inputs).toMatchObject({ name: `/anycdn/${site}/${b.host}/bundle`, type: 'String', insecureValue: `s3://${run.outputs.configBucket}/${b.host}/bundle.tar.gz ${b.sha256}` });
    }
    expect(run.outputs.bundleParameters).toEqual(Object.fromEntries(mine.map((b) => [b.host, `/anycdn/${site}/${b.host}/bundle`])));
  });

  it('give each metal host a policy that reads only its own bundle pointer and its own bundle', () => {
    const run = runs.nyc!;
    const arn = `arn:aws:s3:::${run.outputs.configBucket}`;
    const got = run.ofType(T.policy).map((p) => [p.name, doc(p).Statement]).sort();
    expect(got).toEqual(['nyc-cache1', 'nyc-cache2', 'nyc-lb1', 'nyc-lb2'].map((h) => [`${h}-pull`, [
      { Sid: 'ReadOwnBundlePointer', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:aws:ssm:us-east-1:111111111111:parameter/anycdn/nyc/${h}/bundle` },
      { Sid: 'PullOwnBundle', Effect: 'Allow', Action: 's3:GetObject', Resource: `${arn}/${h}/bundle.tar.gz` },
    ]]));
  });
});

describe('buckets', () => {
  it('origin: the model bucket, private, SSE-S3, versioned, owner-enforced, retained; caches read, plain http denied', () => {
    const run = runs.origin!;
    const [bucket] = run.ofType(T.bucket);
    expect(bucket!.inputs.bucket).toBe('anycdn-example-images');
    expect(run.get('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'origin-public-access').inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(run.get('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'origin-encryption').inputs.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }]);
    expect(run.get('aws:s3/bucketVersioning:BucketVersioning', 'origin-versioning').inputs.versioningConfiguration).toEqual({ status: 'Enabled' });
    expect(run.get('aws:s3/bucketOwnershipControls:BucketOwnershipControls', 'origin-ownership').inputs.rule).toEqual({ objectOwnership: 'BucketOwnerEnforced' });
    const arn = 'arn:aws:s3:::anycdn-example-images';
    const only = { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/anycdn/cache/*' } };
    expect(doc(run.ofType(T.bucketPolicy)[0]!).Statement).toEqual([
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [arn, `${arn}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      { Sid: 'CachesReadImages', Effect: 'Allow', Action: 's3:GetObject', Resource: `${arn}/*`, Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Condition: only },
      { Sid: 'CachesListSoMissingIs404', Effect: 'Allow', Action: 's3:ListBucket', Resource: arn, Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Condition: only },
    ]);
  });

  it('origin with anycdn:originAccessLogs: a private log bucket the S3 log delivery group writes, expiring after 90 days', async () => {
    const run = await runStack('origin', { settings: { originAccessLogs: true } });
    const logs = run.get(T.bucket, 'origin-access-logs');
    const images = run.get(T.bucket, 'origin');
    expect(run.get('aws:s3/bucketLogging:BucketLogging', 'origin-logging').inputs).toEqual({ bucket: images.id, targetBucket: logs.id, targetPrefix: 'origin/' });
    expect(run.get('aws:s3/bucketAcl:BucketAcl', 'origin-access-logs-acl').inputs).toEqual({ bucket: logs.id, acl: 'log-delivery-write' });
    expect(run.get('aws:s3/bucketOwnershipControls:BucketOwnershipControls', 'origin-access-logs-ownership').inputs.rule).toEqual({ objectOwnership: 'BucketOwnerPreferred' });
    expect(run.get('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', 'origin-access-logs-lifecycle').inputs.rules).toEqual([{ id: 'expire', status: 'Enabled', filter: {}, expiration: { days: 90 } }]);
    expect(run.get('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'origin-access-logs-public-access').inputs).toMatchObject({ blockPublicAcls: true, restrictPublicBuckets: true });
    expect(run.ofType('aws:s3/bucketVersioning:BucketVersioning').map((v) => v.name)).toEqual(['origin-versioning']);
    expect(run.outputs).toEqual({ bucketName: 'anycdn-example-images', accessLogsBucket: logs.id });
  });

  it('every stack with a bucket keeps it on delete and denies plain http', () => {
    for (const stack of ['origin', 'ams', 'nyc', 'sin']) {
      const policy = doc(runs[stack]!.ofType(T.bucketPolicy)[0]!).Statement[0];
      expect(policy, stack).toMatchObject({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    }
  });
});

describe('metal sites: the VIP health check and alarm', () => {
  it('probe the VIP over HTTP at the model path (nyc) and over HTTPS with SNI (ams)', () => {
    expect(runs.nyc!.ofType('aws:route53/healthCheck:HealthCheck')[0]!.inputs).toMatchObject({ type: 'HTTP', ipAddress: '198.51.100.74', port: 80, resourcePath: '/healthz', fqdn: 'img.cdn.example.net', requestInterval: 30, failureThreshold: 2 });
    expect(runs.nyc!.ofType('aws:route53/healthCheck:HealthCheck')[0]!.inputs.enableSni).toBeUndefined();
    expect(runs.ams!.ofType('aws:route53/healthCheck:HealthCheck')[0]!.inputs).toMatchObject({ type: 'HTTPS', ipAddress: '198.51.100.10', port: 443, enableSni: true });
  });

  it('alarm on the check when it fails or reports nothing', () => {
    const check = runs.nyc!.ofType('aws:route53/healthCheck:HealthCheck')[0]!;
    const alarm = runs.nyc!.ofType('aws:cloudwatch/metricAlarm:MetricAlarm')[0]!;
    expect(alarm.inputs).toMatchObject({ namespace: 'AWS/Route53', metricName: 'HealthCheckStatus', dimensions: { HealthCheckId: check.id }, statistic: 'Minimum', period: 60, comparisonOperator: 'LessThanThreshold', threshold: 1, evaluationPeriods: 1, treatMissingData: 'breaching' });
    expect(alarm.inputs.alarmActions).toBeUndefined();
  });

  it('notify anycdn:alarmTopicArn when set', async () => {
    const arn = 'arn:aws:sns:us-east-1:111111111111:anycdn-alarms';
    const run = await runStack('ams', { settings: { alarmTopicArn: arn } });
    expect(run.ofType('aws:cloudwatch/metricAlarm:MetricAlarm')[0]!.inputs.alarmActions).toEqual([arn]);
  });
});

describe('global', () => {
  it('retains the accelerator on delete and replacement unless BYOIP makes the addresses the operator\'s own', async () => {
    const { acceleratorOptions } = await import('../../lib/pulumi/global.ts');
    const provider = {} as aws.Provider;
    expect(acceleratorOptions(false, provider)).toEqual({ provider, retainOnDelete: true });
    expect(acceleratorOptions(true, provider)).toEqual({ provider });
  });

  it('listens on 53 over UDP and TCP, with one endpoint group per listener for sin holding its dns hosts', () => {
    const run = runs.global!;
    const listeners = run.ofType('aws:globalaccelerator/listener:Listener').map((l) => l.inputs);
    expect(listeners.map((l) => `${l.protocol} ${JSON.stringify(l.portRanges)} ${l.clientAffinity}`).sort()).toEqual(['TCP [{"fromPort":53,"toPort":53}] NONE', 'UDP [{"fromPort":53,"toPort":53}] NONE']);
    const ids = runs.sin!.outputs.instanceIds as Record<string, string>;
    for (const g of run.ofType('aws:globalaccelerator/endpointGroup:EndpointGroup')) {
      expect(g.inputs).toMatchObject({ endpointGroupRegion: 'ap-southeast-1', healthCheckProtocol: 'HTTP', healthCheckPort: 8053, healthCheckPath: '/anycast', healthCheckIntervalSeconds: 10, thresholdCount: 1 });
      expect(g.inputs.endpointConfigurations).toEqual([{ endpointId: ids['sin-lb1'], clientIpPreservationEnabled: true }, { endpointId: ids['sin-lb2'], clientIpPreservationEnabled: true }]);
    }
    expect(run.ofType('pulumi:pulumi:StackReference').map((r) => r.inputs.name)).toEqual(['organization/anycdn/sin']);
  });

  it('takes the model anycast addresses, one per prefix, with anycdn:globalByoip', async () => {
    const plain = runs.global!.ofType('aws:globalaccelerator/accelerator:Accelerator')[0]!.inputs;
    expect(plain.ipAddresses).toBeUndefined();
    const byoip = await runStack('global', { settings: { globalByoip: true }, stackOutputs: { [stackName('sin')]: runs.sin!.outputs } });
    expect(byoip.ofType('aws:globalaccelerator/accelerator:Accelerator')[0]!.inputs).toMatchObject({ name: 'anycdn-dns', ipAddresses: ['192.0.2.53', '203.0.113.53'] });
  });

  it('fails with the fix when the site stack exports no instance for a dns host', async () => {
    await expect(runStack('global', { stackOutputs: { [stackName('sin')]: { instanceIds: { 'sin-lb1': 'i-1' } } } })).rejects.toThrow(
      /stack organization\/anycdn\/sin exports no instance id for sin-lb2; run pulumi up -s sin first/,
    );
  });
});

describe('the mocks are strict', () => {
  it('refuse a resource type they do not know (here the deprecated s3.BucketV2)', async () => {
    await expect(runStack('origin', { extra: () => new aws.s3.BucketV2('probe', {}) })).rejects.toThrow(/mocks: unknown resource type aws:s3\/bucketV2:BucketV2/);
  });

  it('refuse a provider function they do not know', async () => {
    await expect(runStack('origin', { extra: () => aws.getCallerIdentityOutput({}) })).rejects.toThrow(/mocks: unknown call aws:index\/getCallerIdentity:getCallerIdentity/);
  });
});
