// The Pulumi twins of anycdn-origin and anycdn-origin-replica: the model's origin bucket (and its
// replica, with S3 replication into it), private, encrypted, versioned,
// TLS-only and kept on delete, readable only by this account's cache roles (their IAM path, so
// no site stack is referenced).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ACCESS_LOGS } from '../cloud/buckets.ts';
import { CACHE_ROLE_PATH, originBucketStatements, REPLICATION_PRINCIPAL, replicationStatements } from '../cloud/iam.ts';
import { privateBucket } from './bucket.ts';
import { policyJson, statementJson } from './policy.ts';

export interface OriginArgs {
  bucketName: string;
  account: string;
  region: string;
  partition: pulumi.Input<string>;
  /** Server access logs to a bucket of their own (lib/cloud/buckets.ts ACCESS_LOGS). */
  accessLogs: boolean;
  provider: aws.Provider;
  /**
   * The replica bucket (stack origin-replica, the model's second S3 origin): every object version
   * and delete marker of this bucket is replicated to it. Bring origin-replica up first.
   */
  replicateTo?: string;
  /** A name for the bucket resource other than `origin` (the replica stack's). */
  resourceName?: string;
}

export function origin(args: OriginArgs) {
  const cacheRoles = pulumi.interpolate`arn:${args.partition}:iam::${args.account}:role/${CACHE_ROLE_PATH.slice(1)}*`;
  const name = args.resourceName ?? 'origin';
  const { bucket, versioning } = privateBucket(name, {
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
  if (args.replicateTo) replicate(args, bucket, args.replicateTo, versioning);
  if (!args.accessLogs) return { bucketName: bucket.bucket };
  const logs = privateBucket(`${name}-access-logs`, {
    versioned: ACCESS_LOGS.versioned,
    objectOwnership: ACCESS_LOGS.objectOwnership,
    acl: ACCESS_LOGS.acl,
    expirationDays: ACCESS_LOGS.expirationDays,
  }, { provider: args.provider });
  new aws.s3.BucketLogging(`${name}-logging`, { bucket: bucket.id, targetBucket: logs.bucket.id, targetPrefix: ACCESS_LOGS.prefix }, { provider: args.provider, parent: bucket });
  return { bucketName: bucket.bucket, accessLogsBucket: logs.bucket.bucket };
}

/** The CDK stack's replication (lib/cdk/origin-stack.ts): a role S3 assumes, with exactly replicationStatements, and one rule for every object. */
function replicate(args: OriginArgs, bucket: aws.s3.Bucket, replica: string, versioning: aws.s3.BucketVersioning | undefined): void {
  const opts = { provider: args.provider, parent: bucket };
  const role = new aws.iam.Role('origin-replication', {
    description: `anycdn: S3 replication of ${args.bucketName} to ${replica}`,
    assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: REPLICATION_PRINCIPAL }, Action: 'sts:AssumeRole' }] }),
  }, opts);
  const ctx = { partition: args.partition, region: args.region, account: args.account };
  const policy = new aws.iam.RolePolicy('origin-replication-policy', { role: role.id, policy: policyJson(replicationStatements(args.bucketName, replica).map((st) => statementJson(st, ctx))) }, opts);
  new aws.s3.BucketReplicationConfig('origin-replication', {
    bucket: bucket.id,
    role: role.arn,
    rules: [{
      id: 'ImagesToReplica',
      status: 'Enabled',
      priority: 1,
      filter: { prefix: '' },
      deleteMarkerReplication: { status: 'Enabled' },
      destination: { bucket: pulumi.interpolate`arn:${args.partition}:s3:::${replica}` },
    }],
  }, { ...opts, dependsOn: [policy, ...(versioning ? [versioning] : [])] });
}
