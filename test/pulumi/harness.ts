// The Pulumi program under pulumi.runtime.setMocks, offline: strict mocks that know each resource
// type and provider function the program may use and throw on anything else, so a new type or
// call fails here until a test accounts for it. A run records every resource with its inputs, every
// call, and the stack's resolved outputs.
import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import type { Topology } from '../../lib/model/schema.ts';
import type { Settings } from '../../lib/pulumi/config.ts';
import { load, type Texts } from '../model/fixtures.ts';
import { shippedTexts } from '../helpers/topology.ts';

export const ACCOUNT = '111111111111';
export const PROJECT = 'anycdn';
/** What `pulumi.getOrganization()` is on a DIY backend (pulumi login --local). */
export const ORGANIZATION = 'organization';
export const AMI = 'ami-0123456789abcdef0';

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  id: string;
  state: Record<string, any>;
  /** The provider reference (urn::id), when one was passed. */
  provider?: string;
}

export interface Call {
  token: string;
  inputs: Record<string, any>;
  provider?: string;
}

export interface Run {
  stack: string;
  region: string;
  resources: Recorded[];
  calls: Call[];
  outputs: Record<string, any>;
  /** Resources of one type. */
  ofType(type: string): Recorded[];
  /** The one resource of `type` named `name`. */
  get(type: string, name: string): Recorded;
  /** The resource with this id (any type). */
  byId(id: string): Recorded | undefined;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 17);

/** Computed attributes per resource type: what AWS would assign. Only these types are known. */
function computed(type: string, name: string, inputs: Record<string, any>, region: string): { id: string; extra: Record<string, any> } {
  const h = short(`${type}/${name}`);
  switch (type) {
    case 'pulumi:providers:aws':
      return { id: `provider-${h}`, extra: {} };
    case 'aws:s3/bucket:Bucket': {
      const bucket = inputs.bucket ?? `${name}-${h.slice(0, 7)}`;
      return { id: bucket, extra: { bucket, arn: `arn:aws:s3:::${bucket}` } };
    }
    case 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock':
    case 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration':
    case 'aws:s3/bucketVersioning:BucketVersioning':
    case 'aws:s3/bucketOwnershipControls:BucketOwnershipControls':
    case 'aws:s3/bucketPolicy:BucketPolicy':
    case 'aws:s3/bucketAcl:BucketAcl':
    case 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration':
    case 'aws:s3/bucketLogging:BucketLogging':
    case 'aws:s3/bucketReplicationConfig:BucketReplicationConfig':
      return { id: inputs.bucket, extra: {} };
    case 'aws:s3/bucketObjectv2:BucketObjectv2':
      return { id: inputs.key, extra: {} };
    case 'aws:ec2/vpc:Vpc':
      return { id: `vpc-${h}`, extra: { arn: `arn:aws:ec2:${region}:${ACCOUNT}:vpc/vpc-${h}` } };
    case 'aws:ec2/internetGateway:InternetGateway':
      return { id: `igw-${h}`, extra: {} };
    case 'aws:ec2/routeTable:RouteTable':
      return { id: `rtb-${h}`, extra: {} };
    case 'aws:ec2/route:Route':
      return { id: `r-${h}`, extra: {} };
    case 'aws:ec2/subnet:Subnet':
      return { id: `subnet-${h}`, extra: {} };
    case 'aws:ec2/subnetCidrReservation:SubnetCidrReservation':
      return { id: `scr-${h}`, extra: {} };
    case 'aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation':
      return { id: `vpc-cidr-assoc-${h}`, extra: {} };
    case 'aws:ec2/eip:Eip':
      return { id: `eipalloc-${h}`, extra: { allocationId: `eipalloc-${h}`, publicIp: '198.51.100.250' } };
    case 'aws:ec2/natGateway:NatGateway':
      return { id: `nat-${h}`, extra: {} };
    case 'aws:cloudformation/stack:Stack':
      return { id: `arn:aws:cloudformation:${region}:${ACCOUNT}:stack/${inputs.name}/${h}`, extra: { outputs: {} } };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      return { id: `lt-${h}`, extra: { latestVersion: 1, arn: `arn:aws:ec2:${region}:${ACCOUNT}:launch-template/lt-${h}` } };
    case 'aws:ec2/networkInterface:NetworkInterface':
      return { id: `eni-${h}`, extra: {} };
    case 'aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment':
      return { id: `eni-attach-${h}`, extra: {} };
    case 'aws:ec2/vpcEndpoint:VpcEndpoint':
      return { id: `vpce-${h}`, extra: {} };
    case 'aws:ec2/routeTableAssociation:RouteTableAssociation':
      return { id: `rtbassoc-${h}`, extra: {} };
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { id: `sg-${h}`, extra: {} };
    case 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule':
    case 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule':
      return { id: `sgr-${h}`, extra: {} };
    case 'aws:ec2/flowLog:FlowLog':
      return { id: `fl-${h}`, extra: {} };
    case 'aws:ec2/instance:Instance':
      return { id: `i-${h}`, extra: {} };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { id: name, extra: { arn: `arn:aws:logs:${region}:${ACCOUNT}:log-group:${name}` } };
    case 'aws:iam/role:Role':
      return { id: name, extra: { name, arn: `arn:aws:iam::${ACCOUNT}:role${inputs.path ?? '/'}${name}` } };
    case 'aws:iam/rolePolicy:RolePolicy':
    case 'aws:iam/rolePolicyAttachment:RolePolicyAttachment':
      return { id: name, extra: {} };
    case 'aws:iam/instanceProfile:InstanceProfile':
      return { id: name, extra: { name, arn: `arn:aws:iam::${ACCOUNT}:instance-profile${inputs.path ?? '/'}${name}` } };
    case 'aws:iam/policy:Policy':
      return { id: name, extra: { arn: `arn:aws:iam::${ACCOUNT}:policy/${name}` } };
    case 'aws:route53/healthCheck:HealthCheck':
      return { id: `hc-${h}`, extra: {} };
    case 'aws:ssm/parameter:Parameter':
      return { id: inputs.name, extra: { arn: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${inputs.name}` } };
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { id: name, extra: {} };
    case 'aws:globalaccelerator/accelerator:Accelerator': {
      const arn = `arn:aws:globalaccelerator::${ACCOUNT}:accelerator/${h}`;
      return { id: arn, extra: { arn, dnsName: `${h}.awsglobalaccelerator.com`, ipSets: [{ ipFamily: 'IPv4', ipAddresses: ['198.51.100.201', '198.51.100.202'] }] } };
    }
    case 'aws:globalaccelerator/listener:Listener':
      return { id: `${inputs.acceleratorArn}/listener/${h.slice(0, 8)}`, extra: {} };
    case 'aws:route53/record:Record':
      return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, extra: {} };
    case 'aws:globalaccelerator/endpointGroup:EndpointGroup':
      return { id: `eg-${h}`, extra: {} };
  }
  throw new Error(`mocks: unknown resource type ${type} (${name}); add it to test/pulumi/harness.ts and a test for it`);
}

class StrictMocks implements pulumi.runtime.Mocks {
  readonly resources: Recorded[] = [];
  readonly calls: Call[] = [];
  readonly errors: Error[] = [];

  constructor(private readonly region: string, private readonly stackOutputs: Record<string, Record<string, unknown>>) {}

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    try {
      if (this.resources.some((r) => r.type === args.type && r.name === args.name)) throw new Error(`mocks: duplicate resource ${args.type} ${args.name} (a duplicate URN)`);
      if (args.type === 'pulumi:pulumi:StackReference') {
        const outputs = this.stackOutputs[args.inputs.name];
        if (!outputs) throw new Error(`mocks: unknown stack reference ${args.inputs.name}`);
        const r: Recorded = { type: args.type, name: args.name, inputs: args.inputs, id: args.inputs.name, state: { name: args.inputs.name, outputs, secretOutputNames: [] } };
        this.resources.push(r);
        return { id: r.id, state: r.state };
      }
      const { id, extra } = computed(args.type, args.name, args.inputs, this.region);
      const state = { ...args.inputs, ...extra };
      this.resources.push({ type: args.type, name: args.name, inputs: args.inputs, id, state, ...(args.provider ? { provider: args.provider } : {}) });
      return { id, state };
    } catch (e) {
      this.errors.push(e as Error);
      throw e;
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    try {
      this.calls.push({ token: args.token, inputs: args.inputs, ...(args.provider ? { provider: args.provider } : {}) });
      switch (args.token) {
        case 'aws:index/getPartition:getPartition':
          return { id: 'aws', partition: 'aws', dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws' };
      }
      throw new Error(`mocks: unknown call ${args.token}; add it to test/pulumi/harness.ts and a test for it`);
    } catch (e) {
      this.errors.push(e as Error);
      throw e;
    }
  }
}

export interface RunOptions {
  texts?: Texts;
  topology?: Topology;
  settings?: Partial<Settings>;
  /** Outputs of other stacks, by fully qualified name (organization/anycdn/<stack>). */
  stackOutputs?: Record<string, Record<string, unknown>>;
  /** Extra resources to declare after the program, inside the same run (to prove a mock refuses them). */
  extra?: () => void;
  /** Run through Pulumi.yaml's entry point (lib/pulumi/index.ts) with this stack config instead. */
  config?: Record<string, string>;
}

/** The region each shipped stack lives in, as the model says. */
export const REGIONS: Record<string, string> = { origin: 'eu-west-1', global: 'us-west-2', ams: 'us-east-1', nyc: 'us-east-1', sin: 'ap-southeast-1' };

/** Runs one stack of the program under fresh mocks; every registration finishes before it returns. */
export async function runStack(stack: string, opts: RunOptions = {}): Promise<Run> {
  const region = opts.settings?.region ?? REGIONS[stack] ?? 'us-east-1';
  const mocks = new StrictMocks(region, opts.stackOutputs ?? {});
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false, ORGANIZATION);
  // Imported only after setMocks, as Pulumi's testing guide asks.
  const { anycdnStack } = await import('../../lib/pulumi/program.ts');
  const topology = opts.topology ?? load(opts.texts ?? shippedTexts());
  const settings: Settings = { stack, account: ACCOUNT, region, sitesDir: 'sites', outDir: 'out', debianAmi: AMI, globalByoip: false, originAccessLogs: false, ...opts.settings };
  let outputs: Record<string, any> = {};
  let failure: unknown;
  // A failed registration or a throwing apply surfaces as an unhandled rejection (a real
  // `pulumi up` reports those and fails). Collect them for the duration of the run, so a run
  // fails exactly as the deployment would, instead of leaking them into the test runner.
  const rejections: unknown[] = [];
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const collect = (reason: unknown) => void rejections.push(reason);
  process.on('unhandledRejection', collect);
  try {
    try {
      let raw: unknown;
      if (opts.config) {
        pulumi.runtime.setAllConfig(opts.config);
        try {
          raw = await (await import('../../lib/pulumi/index.ts')).default();
        } finally {
          pulumi.runtime.setAllConfig({});
        }
      } else {
        raw = anycdnStack(topology, settings);
      }
      opts.extra?.();
      outputs = (await settle(raw)) as Record<string, any>;
    } catch (e) {
      failure = e;
    }
    // Drain every outstanding registration and call, so the record is complete, then let Node
    // report the rejections of that last turn.
    await pulumi.runtime.disconnect();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', collect);
    for (const l of saved) process.on('unhandledRejection', l);
  }
  if (mocks.errors.length > 0) throw mocks.errors[0];
  if (failure) throw failure;
  if (rejections.length > 0) throw rejections[0];
  const resources = mocks.resources;
  return {
    stack,
    region,
    resources,
    calls: mocks.calls,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    get: (type, name) => {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) throw new Error(`${found.length} resources ${type} ${name}; have ${resources.filter((r) => r.type === type).map((r) => r.name).join(', ')}`);
      return found[0]!;
    },
    byId: (id) => resources.find((r) => r.id === id),
  };
}

/** Every Output inside `v` resolved (rejections propagate). */
export async function settle(v: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(v)) return settle(await (v as unknown as { promise(): Promise<unknown> }).promise());
  if (Array.isArray(v)) return Promise.all(v.map(settle));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await settle(x)])));
  }
  return v;
}

/** The fully qualified name the global stack references a site stack by. */
export const stackName = (stack: string) => `${ORGANIZATION}/${PROJECT}/${stack}`;
