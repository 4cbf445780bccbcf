// The Pulumi twin of anycdn-<site> for a metal site: a Route 53 health check and an alarm on the
// site's image VIP, and each host's rendered bundle in a private config bucket (Pulumi has no
// asset bucket; CDK publishes it as an asset), with the same SSM parameter per host as CDK's,
// pointing at the bundle's S3 URL and sha256, and a policy that reads only that parameter and
// that object.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { bundleKey, bundleParameter, bundlePointer } from '../cloud/bundle.ts';
import { pullStatements } from '../cloud/iam.ts';
import { alarmPagesNoOne, type MetalSiteShape } from '../cloud/shape.ts';
import { CONFIG } from './config.ts';
import { bundleFile } from '../cloud/staging.ts';
import { privateBucket } from './bucket.ts';
import { policyJson, statementJson } from './policy.ts';

export interface MetalSiteArgs {
  shape: MetalSiteShape;
  account: string;
  region: string;
  partition: pulumi.Input<string>;
  alarmTopicArn?: string;
  provider: aws.Provider;
}

export function metalSite(args: MetalSiteArgs) {
  const { shape, provider } = args;
  const id = shape.site.id;
  const opts = { provider };
  const h = shape.health;
  const check = new aws.route53.HealthCheck(`${id}-vip-health`, {
    type: h.protocol,
    ipAddress: h.ipAddress,
    port: h.port,
    resourcePath: h.path,
    fqdn: h.hostName,
    requestInterval: h.requestIntervalSec,
    failureThreshold: h.failureThreshold,
    ...(h.protocol === 'HTTPS' ? { enableSni: true } : {}),
    tags: { Name: `anycdn-${id}-vip` },
  }, opts);
  const a = shape.alarm;
  new aws.cloudwatch.MetricAlarm(`${id}-vip-down`, {
    alarmDescription: `anycdn ${id}: ${h.protocol} ${h.ipAddress}:${h.port}${h.path} fails Route 53 health checks`,
    namespace: 'AWS/Route53',
    metricName: 'HealthCheckStatus',
    dimensions: { HealthCheckId: check.id },
    statistic: a.statistic,
    period: a.periodSec,
    threshold: a.threshold,
    comparisonOperator: a.comparison,
    evaluationPeriods: a.evaluationPeriods,
    treatMissingData: a.treatMissingData,
    ...(args.alarmTopicArn ? { alarmActions: [args.alarmTopicArn] } : {}),
  }, opts);
  if (!args.alarmTopicArn) void pulumi.log.warn(alarmPagesNoOne(id, `config ${CONFIG.alarmTopicArn}`));

  const config = privateBucket(`${id}-config`, {}, opts);
  const pullPolicies: Record<string, pulumi.Output<string>> = {};
  const bundleParameters: Record<string, string> = {};
  for (const b of shape.bundles) {
    const key = bundleKey(b.host);
    const object = new aws.s3.BucketObjectv2(`${b.host}-bundle`, {
      bucket: config.bucket.id,
      key,
      source: new pulumi.asset.FileAsset(bundleFile(b)),
      sourceHash: b.sha256,
      checksumAlgorithm: 'SHA256',
      contentType: 'application/gzip',
    }, { ...opts, dependsOn: [config.policy] });
    const ctx = { partition: args.partition, region: args.region, account: args.account, ownBundle: { bucket: object.bucket, key } };
    const policy = new aws.iam.Policy(`${b.host}-pull`, {
      description: `anycdn ${id}: lets host ${b.host} pull its own config bundle`,
      policy: policyJson(pullStatements(id, b.host).map((st) => statementJson(st, ctx))),
    }, opts);
    // The pointer moves after the object and the policy, so a host that reads it can fetch.
    const name = bundleParameter(id, b.host);
    new aws.ssm.Parameter(`${b.host}-bundle-pointer`, {
      name,
      type: 'String',
      // Not a secret: insecureValue keeps it readable in the state and the diff.
      insecureValue: pulumi.interpolate`s3://${object.bucket}/${key}`.apply((url) => bundlePointer(url, b)),
      description: `anycdn ${id}: the S3 URL and sha256 of host ${b.host}'s current config bundle`,
    }, { ...opts, dependsOn: [object, policy] });
    pullPolicies[b.host] = policy.arn;
    bundleParameters[b.host] = name;
  }
  return { configBucket: config.bucket.bucket, pullPolicies, bundleParameters, healthCheckId: check.id };
}
