// One EC2 host of an aws site: its role, its bundle as an S3 asset, and the instance that fetches,
// verifies and applies that bundle at boot. Nothing here renders config: the bundle holds exactly
// the files `anycdn render` writes for the host.
import { ArnFormat, AssetHashType, CfnWaitCondition, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct, type IDependable } from 'constructs';
import type { ResourceRef, Statement } from '../cloud/iam.ts';
import { INSTANCE } from '../cloud/instance.ts';
import { hostVersion, ROLLOUT, type HostVersion } from '../cloud/rollout.ts';
import type { AwsSiteShape, CloudHost } from '../cloud/shape.ts';
import { userData } from '../cloud/userdata.ts';
import { acknowledge, nagPartition } from './nag.ts';
import { bundleFile } from '../cloud/staging.ts';

export interface HostProps {
  site: AwsSiteShape;
  shape: CloudHost;
  vpc: ec2.IVpc;
  subnet: ec2.ISubnet;
  /** The site's subnets by model name, for the statements' ec2:Subnet conditions. */
  subnets: Map<string, ec2.CfnSubnet>;
  securityGroups: ec2.ISecurityGroup[];
  /** The egress subnet of the host's zone: its second interface. */
  egressSubnet: ec2.CfnSubnet;
  /** What must exist before the instance boots: the egress route, the address reservations. */
  egressReady: IDependable;
  machineImage: ec2.IMachineImage;
  /** The pinned AMI id behind machineImage: part of the host's version. */
  ami: string;
  /** s3:GetObject on the objects of the origin bucket (and its replica). */
  originBuckets?: string[];
}

export class Host extends Construct {
  readonly instance: ec2.Instance;
  readonly bundle: s3assets.Asset;
  readonly role: iam.Role;
  /** The keys of this version of the host (lib/cloud/rollout.ts). */
  readonly version: HostVersion;
  /** Satisfied once this version of the host reported itself healthy. */
  readonly ready: CfnWaitCondition;

  constructor(scope: Construct, id: string, props: HostProps) {
    super(scope, id);
    const { shape, site } = props;

    this.bundle = new s3assets.Asset(this, 'Bundle', {
      path: bundleFile(shape.bundle),
      assetHash: shape.bundle.sha256,
      assetHashType: AssetHashType.CUSTOM,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      // The origin bucket policy admits roles under the cache path (see lib/cloud/iam.ts).
      path: shape.rolePath,
      description: shape.roleDescription,
    });
    for (const st of shape.statements) this.role.addToPrincipalPolicy(this.statement(st, props));
    for (const p of shape.managedPolicies) this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName(p));
    this.excuse(props);

    // A handle per version of the host: an update that restarts it waits for a fresh signal. An
    // instance per replacement key: a replacing change is a new resource, created and signalled
    // before CloudFormation deletes the old one. The instance owns no fixed address (the bootstrap
    // claims it), so both can exist at once (docs/deploy-cdk.md "The update path").
    const version = hostVersion(shape.version, props.ami);
    this.version = version;
    const handle = new CfnWaitConditionHandle(this, `ReadyHandle-${version.gateKey}`);
    this.instance = new ec2.Instance(this, `Instance-${version.replacementKey}`, {
      instanceName: shape.host.name,
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      instanceType: new ec2.InstanceType(shape.instanceType),
      machineImage: props.machineImage,
      userData: ec2.UserData.custom(
        userData({
          host: shape.host.name,
          region: site.region,
          bundleUrl: this.bundle.s3ObjectUrl,
          bundleSha256: shape.bundle.sha256,
          packages: shape.packages,
          units: shape.units,
          address: shape.address,
          egress: shape.egress,
          ...(shape.forwardFromPrimary ? { forwardFromPrimary: shape.forwardFromPrimary } : {}),
          readiness: { signal: { url: handle.ref }, probes: shape.readiness.probes, attempts: ROLLOUT.attempts, intervalSec: ROLLOUT.intervalSec },
        }),
      ),
      role: this.role,
      securityGroup: props.securityGroups[0],
      // No public address of its own (docs/deploy-cdk.md "Network and egress").
      associatePublicIpAddress: false,
      // IMDSv2 only; one hop, so nothing forwarded from the host reaches the metadata service.
      httpEndpoint: true,
      httpTokens: INSTANCE.httpTokens === 'required' ? ec2.HttpTokens.REQUIRED : ec2.HttpTokens.OPTIONAL,
      httpPutResponseHopLimit: INSTANCE.httpPutResponseHopLimit,
      detailedMonitoring: INSTANCE.detailedMonitoring,
      disableApiTermination: INSTANCE.disableApiTermination,
      propagateTagsToVolumeOnCreation: true,
      blockDevices: [
        {
          deviceName: INSTANCE.rootDeviceName,
          volume: ec2.BlockDeviceVolume.ebs(shape.rootVolumeGiB, {
            encrypted: INSTANCE.encrypted,
            volumeType: INSTANCE.volumeType as ec2.EbsDeviceVolumeType,
            deleteOnTermination: INSTANCE.deleteOnTermination,
          }),
        },
      ],
    });
    for (const sg of props.securityGroups.slice(1)) this.instance.addSecurityGroup(sg);
    // The second interface, created with the instance (so a replacement brings its own): in the
    // egress subnet of the host's zone, with the host's groups, no public address either.
    const cfn = this.instance.instance;
    const primary = (cfn.networkInterfaces as ec2.CfnInstance.NetworkInterfaceProperty[] | undefined)?.[0];
    if (!primary) throw new Error('internal: an instance without its primary interface');
    cfn.networkInterfaces = [
      { ...primary, deleteOnTermination: true, description: `${shape.host.name}: service (the model address; the VIP on lb hosts)` },
      { deviceIndex: '1', subnetId: props.egressSubnet.ref, groupSet: primary.groupSet, associatePublicIpAddress: false, deleteOnTermination: true, description: `${shape.host.name}: egress through the NAT gateway` },
    ];
    cfn.node.addDependency(props.egressReady);
    // Both interfaces carry the host's tags from launch (an instance cannot tag the interfaces it
    // creates; a launch template can): the role's address statements admit only these.
    const tags = new ec2.CfnLaunchTemplate(this, 'InterfaceTags', {
      launchTemplateData: { tagSpecifications: [{ resourceType: 'network-interface', tags: Object.entries(shape.interfaceTags).map(([key, value]) => ({ key, value })) }] },
    });
    cfn.launchTemplate = { launchTemplateId: tags.ref, version: tags.attrLatestVersionNumber };
    // The zone follows from the interfaces' subnets; only the subnets pin it (cfn-lint W3010).
    cfn.availabilityZone = undefined;
    this.ready = new CfnWaitCondition(this, `Ready-${version.gateKey}`, { handle: handle.ref, timeout: String(ROLLOUT.timeoutSec), count: 1 });
    this.ready.node.addDependency(this.instance.instance);
    acknowledge(this.instance, 'CloudFormation-Validate::W9010', 'the AMI is pinned per region on purpose (context anycdn:debian-ami): a new AMI replaces every instance, so it changes only when an operator bumps it');
    acknowledge(
      this.instance,
      'AwsSolutions-EC29',
      'no termination protection on purpose: a replacing change (AMI, subnet, disk) must let CloudFormation delete the old instance after the new one reported healthy',
    );
  }

  /** A shape statement with its references as this stack's ARNs. */
  private statement(st: Statement, props: HostProps): iam.PolicyStatement {
    const stack = Stack.of(this);
    const arn = (r: ResourceRef): string => {
      switch (r.kind) {
        case 'own-bundle':
          return this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey);
        case 's3-bucket':
          return s3Arn(stack, r.bucket);
        case 's3-objects':
          return `${s3Arn(stack, r.bucket)}/${r.pattern}`;
        case 'elastic-ip':
          return stack.formatArn({ service: 'ec2', resource: 'elastic-ip', resourceName: r.allocationId });
        case 'network-interfaces':
          return stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
        case 'any':
          return '*';
        case 'ssm-parameter':
          return stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: r.name.replace(/^\//, '') });
      }
    };
    const subnetArn = (name: string) => {
      const subnet = props.subnets.get(name);
      if (!subnet) throw new Error(`internal: no subnet ${name}`);
      return stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: subnet.ref });
    };
    const conditions: Record<string, Record<string, unknown>> = {};
    if (st.inSubnet !== undefined) conditions.ArnEquals = { 'ec2:Subnet': subnetArn(st.inSubnet) };
    if (st.resourceTags) conditions.StringEquals = Object.fromEntries(Object.entries(st.resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
    return new iam.PolicyStatement({
      sid: st.sid,
      actions: st.actions,
      resources: st.resources.map(arn),
      ...(Object.keys(conditions).length > 0 ? { conditions } : {}),
    });
  }

  /** cdk-nag findings these grants raise by design, each with its reason. */
  private excuse(props: HostProps): void {
    const stack = Stack.of(this);
    const { permissions } = props.shape;
    if (permissions.includes('ssm-core')) {
      acknowledge(
        this.role,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH on these hosts',
      );
    }
    if (permissions.includes('origin-read')) {
      if (!props.originBuckets?.length) throw new Error('internal: origin-read without an origin bucket');
      for (const bucket of props.originBuckets) {
        acknowledge(this.role, `AwsSolutions-IAM5[Resource::arn:${nagPartition(this)}:s3:::${bucket}/*]`, 'a cache reads any image of the origin bucket by design; the bucket holds only the images it serves');
      }
    }
    if (permissions.includes('claim-address')) {
      acknowledge(this.role, 'AwsSolutions-IAM5[Resource::*]', 'ec2:DescribeNetworkInterfaces takes no resource-level permissions; the bootstrap uses it to find which interface holds the host\'s address');
    }
    if (permissions.includes('move-vip') || permissions.includes('claim-address')) {
      acknowledge(
        this.role,
        `AwsSolutions-IAM5[Resource::arn:${nagPartition(this)}:ec2:${stack.region}:${stack.account}:network-interface/*]`,
        'network interface ids exist only after launch; conditions limit this to the interfaces of this host\'s own instances (tagged at launch with anycdn:site and anycdn:host) in the VIP subnet (move-vip) and its own subnet (claim-address)',
      );
    }
  }
}

function s3Arn(stack: Stack, bucket: string): string {
  return stack.formatArn({ service: 's3', region: '', account: '', resource: bucket, arnFormat: ArnFormat.NO_RESOURCE_NAME });
}
