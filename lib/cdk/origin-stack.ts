// anycdn-origin: the origin image bucket, when the model's origin is S3. Private, encrypted,
// versioned, TLS-only; readable by the sites' cache instance roles and no one else by policy.
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ACCESS_LOGS } from '../cloud/buckets.ts';
import { CACHE_ROLE_PATH, originBucketStatements } from '../cloud/iam.ts';
import { acknowledge } from './nag.ts';

export interface OriginStackProps extends StackProps {
  bucketName: string;
  accessLogs: boolean;
}

export class OriginStack extends Stack {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: OriginStackProps) {
    super(scope, id, props);
    Tags.of(this).add('anycdn:part', 'origin');
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    const logs = props.accessLogs
      ? new s3.Bucket(this, 'AccessLogs', { ...common, objectOwnership: ACCESS_LOGS.objectOwnership as s3.ObjectOwnership, versioned: ACCESS_LOGS.versioned, lifecycleRules: [{ expiration: Duration.days(ACCESS_LOGS.expirationDays) }] })
      : undefined;
    if (logs) acknowledge(logs, 'AwsSolutions-S1', 'this is the access log bucket itself; logging it would log its own log writes');

    this.bucket = new s3.Bucket(this, 'Images', {
      ...common,
      bucketName: props.bucketName,
      versioned: true,
      ...(logs ? { serverAccessLogsBucket: logs, serverAccessLogsPrefix: ACCESS_LOGS.prefix } : {}),
    });
    if (!logs) {
      acknowledge(this.bucket, 'AwsSolutions-S1', 'access logs are opt-in (-c anycdn:origin-access-logs=true): the caches make nearly all reads, and they log them');
    }

    // Cache roles live in the site stacks, in other regions; the path condition admits them
    // without a cross-stack reference (lib/cloud/iam.ts).
    const cacheRoles = this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${CACHE_ROLE_PATH.slice(1)}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const onlyCaches = { ArnLike: { 'aws:PrincipalArn': cacheRoles } };
    for (const st of originBucketStatements(props.bucketName)) {
      const resources = st.resources.map((r) => {
        if (r.kind === 's3-bucket') return this.bucket.bucketArn;
        if (r.kind === 's3-objects') return this.bucket.arnForObjects(r.pattern);
        throw new Error(`internal: the origin bucket policy points at ${r.kind}`);
      });
      this.bucket.addToResourcePolicy(new iam.PolicyStatement({ sid: st.sid, principals: [new iam.AccountRootPrincipal()], actions: st.actions, resources, conditions: onlyCaches }));
    }
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'The origin bucket the caches fetch images from' });
  }
}
