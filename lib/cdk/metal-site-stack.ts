// anycdn-<site> for a metal site: the cloud side of a rack site. A Route 53 health check and a
// CloudWatch alarm on the site's image VIP, and each host's rendered bundle as a CDK file asset
// (the cdk CLI publishes it to the bootstrap asset bucket, as it does the aws hosts' bundles), with
// an SSM parameter per host that points at its current bundle (S3 URL and sha256) and a managed
// policy that reads only that parameter and that object. No Lambda, no custom resource: the
// stack is plain CloudFormation resources.
import { Annotations, AssetHashType, CfnOutput, Duration, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CfnParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { bundleParameter, bundlePointer } from '../cloud/bundle.ts';
import { pullStatements, type ResourceRef } from '../cloud/iam.ts';
import { alarmPagesNoOne, type MetalSiteShape } from '../cloud/shape.ts';
import { CONTEXT } from './context.ts';
import { bundleFile } from '../cloud/staging.ts';

export interface MetalSiteStackProps extends StackProps {
  shape: MetalSiteShape;
  alarmTopicArn?: string;
  /** Say at synth that the alarm pages no one when there is no topic. */
  warnUnpaged?: boolean;
}

export class MetalSiteStack extends Stack {
  /** By host name: the asset that carries the host's bundle. */
  readonly bundles = new Map<string, s3assets.Asset>();

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
    else if (props.warnUnpaged ?? true) Annotations.of(alarm).addWarningV2('anycdn:alarm-pages-no-one', alarmPagesNoOne(siteId, `context ${CONTEXT.alarmTopicArn}`));

    for (const b of shape.bundles) {
      const bundle = new s3assets.Asset(this, `Bundle-${b.host}`, { path: bundleFile(b), assetHash: b.sha256, assetHashType: AssetHashType.CUSTOM });
      this.bundles.set(b.host, bundle);
      const name = bundleParameter(siteId, b.host);
      const arn = (r: ResourceRef): string => {
        if (r.kind === 'own-bundle') return bundle.bucket.arnForObjects(bundle.s3ObjectKey);
        if (r.kind === 'ssm-parameter') return this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: r.name.replace(/^\//, '') });
        throw new Error(`internal: a pull policy points at ${r.kind}`);
      };
      const policy = new iam.ManagedPolicy(this, `Pull-${b.host}`, {
        description: `anycdn ${siteId}: lets host ${b.host} pull its own config bundle`,
        statements: pullStatements(siteId, b.host).map((st) => new iam.PolicyStatement({ sid: st.sid, actions: st.actions, resources: st.resources.map(arn) })),
      });
      // The pointer moves after the policy admits the new object, so a host that reads it can fetch.
      const pointer = new CfnParameter(this, `BundlePointer-${b.host}`, {
        name,
        type: 'String',
        value: bundlePointer(bundle.s3ObjectUrl, b),
        description: `anycdn ${siteId}: the S3 URL and sha256 of host ${b.host}'s current config bundle`,
      });
      pointer.node.addDependency(policy);
      new CfnOutput(this, `PullPolicy-${b.host}`, { value: policy.managedPolicyArn, description: `Attach to the identity ${b.host} pulls with` });
      new CfnOutput(this, `BundleParameter-${b.host}`, { value: name, description: `${b.host} reads its bundle's S3 URL and sha256 here` });
    }
  }
}
