// anycdn-<site> for a metal site: the cloud side of a rack site. A Route 53 health check and a
// CloudWatch alarm on the site's image VIP, and the site's rendered host bundles in a config
// bucket that the hosts pull from (<host>/bundle.tar.gz and its .sha256), each host through a
// managed policy that reads only its own prefix.
import { CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AssetHashType } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { pullStatements } from '../cloud/iam.ts';
import type { MetalSiteShape } from '../cloud/shape.ts';
import { acknowledge, nagPartition } from './nag.ts';
import { bundleDirectory } from '../cloud/staging.ts';

export interface MetalSiteStackProps extends StackProps {
  shape: MetalSiteShape;
  alarmTopicArn?: string;
}

export class MetalSiteStack extends Stack {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: MetalSiteStackProps) {
    super(scope, id, props);
    const { shape } = props;
    const siteId = shape.site.id;
    Tags.of(this).add('anycdn:site', siteId);

    const h = shape.health;
    const check = new route53.CfnHealthCheck(this, 'VipHealthCheck', {
      healthCheckConfig: {
        type: h.protocol,
        ipAddress: h.ipAddress,
        port: h.port,
        resourcePath: h.path,
        fullyQualifiedDomainName: h.hostName,
        requestInterval: h.requestIntervalSec,
        failureThreshold: h.failureThreshold,
        ...(h.protocol === 'HTTPS' ? { enableSni: true } : {}),
      },
      healthCheckTags: [{ key: 'Name', value: `anycdn-${siteId}-vip` }],
    });
    const alarm = new cloudwatch.Alarm(this, 'VipDown', {
      alarmDescription: `anycdn ${siteId}: ${h.protocol} ${h.ipAddress}:${h.port}${h.path} fails Route 53 health checks`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Route53',
        metricName: 'HealthCheckStatus',
        dimensionsMap: { HealthCheckId: check.attrHealthCheckId },
        statistic: shape.alarm.statistic,
        period: Duration.seconds(shape.alarm.periodSec),
      }),
      threshold: shape.alarm.threshold,
      comparisonOperator: shape.alarm.comparison as cloudwatch.ComparisonOperator,
      evaluationPeriods: shape.alarm.evaluationPeriods,
      treatMissingData: shape.alarm.treatMissingData as cloudwatch.TreatMissingData,
    });
    if (props.alarmTopicArn) alarm.addAlarmAction(new actions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)));

    this.bucket = new s3.Bucket(this, 'Config', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.bucket, 'AwsSolutions-S1', 'the bucket holds only rendered configs that the stack itself writes; CloudTrail records who reads them');

    const dir = bundleDirectory(shape.bundles);
    new s3deploy.BucketDeployment(this, 'Bundles', {
      sources: [s3deploy.Source.asset(dir.path, { assetHash: dir.hash, assetHashType: AssetHashType.CUSTOM })],
      destinationBucket: this.bucket,
      prune: true,
      retainOnDelete: true,
    });
    const bucketId = this.resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
    excuseBucketDeployment(this, bucketId);

    for (const b of shape.bundles) {
      const policy = new iam.ManagedPolicy(this, `Pull-${b.host}`, {
        description: `anycdn ${siteId}: lets host ${b.host} pull its own config bundle`,
        statements: pullStatements(b.host).map((st) => new iam.PolicyStatement({
          sid: st.sid,
          actions: st.actions,
          resources: st.resources.map((r) => {
            if (r.kind !== 'config-objects') throw new Error(`internal: a pull policy points at ${r.kind}`);
            return this.bucket.arnForObjects(r.pattern);
          }),
        })),
      });
      acknowledge(policy, `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${b.host}/*]`, 'the host reads its bundle and checksum under its own prefix, and nothing else');
      new CfnOutput(this, `PullPolicy-${b.host}`, { value: policy.managedPolicyArn, description: `Attach to the identity ${b.host} pulls with` });
    }
    new CfnOutput(this, 'ConfigBucket', { value: this.bucket.bucketName, description: 'Hosts pull s3://<bucket>/<host>/bundle.tar.gz and bundle.tar.gz.sha256' });
  }
}

/**
 * BucketDeployment's handler is CDK's own singleton Lambda: its runtime, its managed logging policy
 * and its grants (read the asset bucket, write the config bucket) are fixed by aws-cdk-lib.
 */
function excuseBucketDeployment(stack: Stack, bucketId: string): void {
  const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!handler) throw new Error('internal: no BucketDeployment handler in the stack');
  const assets = `cdk-hnb659fds-assets-${stack.account}-${stack.region}`;
  acknowledge(handler, 'AwsSolutions-L1', 'the runtime of the BucketDeployment handler is pinned by aws-cdk-lib, which moves it forward on upgrade');
  acknowledge(handler, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'the BucketDeployment handler only writes its own CloudWatch logs with this AWS-managed policy');
  const wildcards = ['Action::s3:Abort*', 'Action::s3:DeleteObject*', 'Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*', `Resource::<${bucketId}.Arn>/*`, `Resource::arn:${nagPartition(stack)}:s3:::${assets}/*`];
  for (const w of wildcards) {
    acknowledge(handler, `AwsSolutions-IAM5[${w}]`, 'BucketDeployment reads the CDK asset bucket and syncs (writes, prunes) the whole config bucket, which it alone writes');
  }
}
