// The Pulumi twin of anycdn-origin: the model's origin bucket, private, encrypted, versioned,
// TLS-only and kept on delete, readable only by this account's cache roles (their IAM path, so
// no site stack is referenced).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ACCESS_LOGS } from '../cloud/buckets.ts';
import { CACHE_ROLE_PATH, originBucketStatements } from '../cloud/iam.ts';
import { privateBucket } from './bucket.ts';
import { statementJson } from './policy.ts';

export interface OriginArgs {
  bucketName: string;
  account: string;
  region: string;
  partition: pulumi.Input<string>;
  /** Server access logs to a bucket of their own (lib/cloud/buckets.ts ACCESS_LOGS). */
  accessLogs: boolean;
  provider: aws.Provider;
}

export function origin(args: OriginArgs) {
  const cacheRoles = pulumi.interpolate`arn:${args.partition}:iam::${args.account}:role/${CACHE_ROLE_PATH.slice(1)}*`;
  const { bucket } = privateBucket('origin', {
    bucketName: args.bucketName,
    statements: (bucketArn) => originBucketStatements(args.bucketName).map((st) => {
      // The bucket's own ARN, as the CDK app writes it (the statements name the bucket by name).
      const resources = st.resources.map((r) => {
        if (r.kind === 's3-bucket') return bucketArn;
        if (r.kind === 's3-objects') return pulumi.interpolate`${bucketArn}/${r.pattern}`;
        throw new Error(`internal: the origin bucket policy points at ${r.kind}`);
      });
      return {
        ...statementJson(st, { partition: args.partition, region: args.region, account: args.account }),
        Resource: resources.length === 1 ? resources[0]! : resources,
        Principal: { AWS: pulumi.interpolate`arn:${args.partition}:iam::${args.account}:root` },
        Condition: { ArnLike: { 'aws:PrincipalArn': cacheRoles } },
      };
    }),
  }, { provider: args.provider });
  if (!args.accessLogs) return { bucketName: bucket.bucket };
  const logs = privateBucket('origin-access-logs', {
    versioned: ACCESS_LOGS.versioned,
    objectOwnership: ACCESS_LOGS.objectOwnership,
    acl: ACCESS_LOGS.acl,
    expirationDays: ACCESS_LOGS.expirationDays,
  }, { provider: args.provider });
  new aws.s3.BucketLogging('origin-logging', { bucket: bucket.id, targetBucket: logs.bucket.id, targetPrefix: ACCESS_LOGS.prefix }, { provider: args.provider, parent: bucket });
  return { bucketName: bucket.bucket, accessLogsBucket: logs.bucket.bucket };
}
