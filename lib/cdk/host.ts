// One EC2 host of an aws site: its role, its bundle as an S3 asset, and the instance that fetches,
// verifies and applies that bundle at boot. Nothing here renders config: the bundle holds exactly
// the files `anycdn render` writes for the host.
import { ArnFormat, AssetHashType, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { CACHE_ROLE_PATH } from '../cloud/iam.ts';
import type { AwsSiteShape, CloudHost } from '../cloud/shape.ts';
import { userData } from '../cloud/userdata.ts';
import { acknowledge } from './nag.ts';
import { bundleFile } from './staging.ts';

export interface HostProps {
  site: AwsSiteShape;
  shape: CloudHost;
  vpc: ec2.IVpc;
  subnet: ec2.ISubnet;
  /** The subnet of the VIP, which the lb pair may move the VIP and Elastic IP within. */
  vipSubnet: ec2.CfnSubnet;
  securityGroups: ec2.ISecurityGroup[];
  machineImage: ec2.IMachineImage;
  /** s3:GetObject on the origin bucket's objects. */
  originBucket?: string;
}

export class Host extends Construct {
  readonly instance: ec2.Instance;
  readonly bundle: s3assets.Asset;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HostProps) {
    super(scope, id);
    const { shape, site } = props;
    const isCache = shape.host.roles.includes('cache');

    this.bundle = new s3assets.Asset(this, 'Bundle', {
      path: bundleFile(shape.bundle),
      assetHash: shape.bundle.sha256,
      assetHashType: AssetHashType.CUSTOM,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      // The origin bucket policy admits roles under the cache path (see lib/cloud/iam.ts).
      path: isCache ? CACHE_ROLE_PATH : '/anycdn/',
      description: `anycdn ${site.site.id} host ${shape.host.name} (${shape.host.roles.join(', ')})`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadOwnBundle', actions: ['s3:GetObject'], resources: [this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey)] }),
    );
    for (const p of shape.permissions) this.grant(p, props);

    this.instance = new ec2.Instance(this, 'Instance', {
      instanceName: shape.host.name,
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      privateIpAddress: shape.host.address,
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
        }),
      ),
      role: this.role,
      securityGroup: props.securityGroups[0],
      // IMDSv2 only; one hop, so nothing forwarded from the host reaches the metadata service.
      httpEndpoint: true,
      httpTokens: ec2.HttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      disableApiTermination: true,
      propagateTagsToVolumeOnCreation: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(shape.rootVolumeGiB, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
        },
      ],
    });
    for (const sg of props.securityGroups.slice(1)) this.instance.addSecurityGroup(sg);
    acknowledge(this.instance, 'CloudFormation-Validate::W3010', 'the zone is the one of the host\'s subnet, pinned in the site model so synth stays offline');
  }

  private grant(p: CloudHost['permissions'][number], props: HostProps): void {
    const stack = Stack.of(this);
    switch (p) {
      case 'ssm-core':
        this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
        acknowledge(
          this.role,
          'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
          'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH on these hosts',
        );
        return;
      case 'origin-read': {
        if (!props.originBucket) throw new Error('internal: origin-read without an origin bucket');
        const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: props.originBucket, arnFormat: ArnFormat.NO_RESOURCE_NAME });
        this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadOrigin', actions: ['s3:GetObject'], resources: [`${bucketArn}/*`] }));
        this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListOriginSoMissingIs404', actions: ['s3:ListBucket'], resources: [bucketArn] }));
        acknowledge(this.role, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${props.originBucket}/*]`, 'a cache reads any image of the origin bucket by design; the bucket holds only the images it serves');
        return;
      }
      case 'move-vip': {
        const eipArn = stack.formatArn({ service: 'ec2', resource: 'elastic-ip', resourceName: props.site.elasticIp.allocationId });
        const eniArn = stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
        const subnetArn = stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: props.vipSubnet.ref });
        this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AssociateSiteElasticIp', actions: ['ec2:AssociateAddress'], resources: [eipArn] }));
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'MoveVipWithinVipSubnet',
            actions: ['ec2:AssociateAddress', 'ec2:AssignPrivateIpAddresses'],
            resources: [eniArn],
            conditions: { ArnEquals: { 'ec2:Subnet': subnetArn } },
          }),
        );
        acknowledge(
          this.role,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${stack.region}:${stack.account}:network-interface/*]`,
          'network interface ids exist only after launch; the ec2:Subnet condition limits this to interfaces in the VIP subnet',
        );
        return;
      }
    }
  }
}
