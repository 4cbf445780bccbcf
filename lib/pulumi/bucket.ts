// A private bucket from lib/cloud/buckets.ts with the current @pulumi/aws v7 resources: s3.Bucket
// and its sibling configuration resources (never the deprecated s3.BucketV2 or the inline
// arguments), and a policy that denies plain http plus any statements the caller adds.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { PRIVATE_BUCKET } from '../cloud/buckets.ts';
import { policyJson, type PolicyStatementJson } from './policy.ts';

export interface PrivateBucket {
  bucket: aws.s3.Bucket;
  /** The policy: created last, so nothing reads the bucket before it is locked down. */
  policy: aws.s3.BucketPolicy;
  /** Its versioning, which S3 replication needs in place first. */
  versioning?: aws.s3.BucketVersioning;
}

export function privateBucket(
  name: string,
  args: {
    bucketName?: string;
    statements?: (arn: pulumi.Output<string>) => pulumi.Input<PolicyStatementJson>[];
    /** Overrides for a bucket that is not quite like the others (the access logs). */
    versioned?: boolean;
    objectOwnership?: string;
    /** A canned ACL, applied after the ownership controls allow ACLs. */
    acl?: string;
    expirationDays?: number;
  },
  opts: pulumi.CustomResourceOptions,
): PrivateBucket {
  const o = { ...opts, retainOnDelete: PRIVATE_BUCKET.retainOnDelete };
  const bucket = new aws.s3.Bucket(name, { ...(args.bucketName ? { bucket: args.bucketName } : {}) }, o);
  const child = { ...o, parent: bucket };
  const access = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
    bucket: bucket.id,
    blockPublicAcls: PRIVATE_BUCKET.blockPublicAccess,
    blockPublicPolicy: PRIVATE_BUCKET.blockPublicAccess,
    ignorePublicAcls: PRIVATE_BUCKET.blockPublicAccess,
    restrictPublicBuckets: PRIVATE_BUCKET.blockPublicAccess,
  }, child);
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: PRIVATE_BUCKET.sseAlgorithm } }],
  }, child);
  // A bucket that was never versioned needs no versioning resource (Suspended would be a change).
  let versioning: aws.s3.BucketVersioning | undefined;
  if (args.versioned ?? PRIVATE_BUCKET.versioned) {
    versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, child);
  }
  const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
    bucket: bucket.id,
    rule: { objectOwnership: args.objectOwnership ?? PRIVATE_BUCKET.objectOwnership },
  }, child);
  if (args.acl) new aws.s3.BucketAcl(`${name}-acl`, { bucket: bucket.id, acl: args.acl }, { ...child, dependsOn: [ownership] });
  if (args.expirationDays !== undefined) {
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket: bucket.id,
      rules: [{ id: 'expire', status: 'Enabled', filter: {}, expiration: { days: args.expirationDays } }],
    }, child);
  }
  const tls: PolicyStatementJson[] = PRIVATE_BUCKET.tlsOnly
    ? [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]
    : [];
  const policy = new aws.s3.BucketPolicy(`${name}-policy`, {
    bucket: bucket.id,
    policy: policyJson([...tls, ...(args.statements?.(bucket.arn) ?? [])]),
  }, { ...child, dependsOn: [access] });
  return { bucket, policy, ...(versioning ? { versioning } : {}) };
}
