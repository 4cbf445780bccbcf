// The Pulumi twin of anycdn-<site> for a metal site: a Route 53 health check and an alarm on the
// site's image VIP, and the rendered host bundles in a private config bucket that the hosts pull
// from (<host>/bundle.tar.gz and its .sha256), each host through a policy that reads only its own
// prefix.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { bundleKey, checksumKey, checksumText } from '../cloud/bundle.ts';
import { pullStatements } from '../cloud/iam.ts';
import type { MetalSiteShape } from '../cloud/shape.ts';
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

  const config = privateBucket(`${id}-config`, {}, opts);
  const pullPolicies: Record<string, pulumi.Output<string>> = {};
  for (const b of shape.bundles) {
    const after = { ...opts, dependsOn: [config.policy] };
    new aws.s3.BucketObjectv2(`${b.host}-bundle`, {
      bucket: config.bucket.id,
      key: bundleKey(b.host),
      source: new pulumi.asset.FileAsset(bundleFile(b)),
      sourceHash: b.sha256,
      checksumAlgorithm: 'SHA256',
      contentType: 'application/gzip',
    }, after);
    new aws.s3.BucketObjectv2(`${b.host}-bundle-sha256`, {
      bucket: config.bucket.id,
      key: checksumKey(b.host),
      content: checksumText(b),
      checksumAlgorithm: 'SHA256',
      contentType: 'text/plain',
    }, after);
    const ctx = { partition: args.partition, region: args.region, account: args.account, configBucketArn: config.bucket.arn };
    const policy = new aws.iam.Policy(`${b.host}-pull`, {
      description: `anycdn ${id}: lets host ${b.host} pull its own config bundle`,
      policy: policyJson(pullStatements(b.host).map((st) => statementJson(st, ctx))),
    }, opts);
    pullPolicies[b.host] = policy.arn;
  }
  return { configBucket: config.bucket.bucket, pullPolicies, healthCheckId: check.id };
}
