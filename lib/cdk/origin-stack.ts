// anycdn-origin: the origin image bucket, when the model's origin is S3. Private, encrypted,
// versioned, TLS-only; readable by the sites' cache instance roles and no one else by policy.
// anycdn-origin-replica is the same stack in the replica's region, for the model's second S3
// origin; with it, anycdn-origin replicates into that bucket.
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ACCESS_LOGS } from '../cloud/buckets.ts';
import { CACHE_ROLE_PATH, originBucketStatements, REPLICATION_PRINCIPAL, replicationStatements } from '../cloud/iam.ts';
import { acknowledge, nagPartition } from './nag.ts';

export interface OriginStackProps extends StackProps {
  bucketName: string;
  accessLogs: boolean;
  /**
   * The replica bucket (the model's second S3 origin), which stack anycdn-origin-replica creates
   * in its own region: this bucket replicates every object version and delete marker to it. The
   * replica stack deploys first (S3 refuses a replication rule to a bucket that does not exist or
   * is not versioned), and the ARN is built from the name, so no cross-region reference exists.
   */
  replicateTo?: string;
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
    if (props.replicateTo) this.replicate(props.bucketName, props.replicateTo);
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'The origin bucket the caches fetch images from' });
  }

  /** A role S3 assumes, with exactly replicationStatements, and one rule for every object. */
  private replicate(source: string, replica: string): void {
    const role = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal(REPLICATION_PRINCIPAL),
      description: `anycdn: S3 replication of ${source} to ${replica}`,
    });
    const arnOf = (bucket: string) => this.formatArn({ service: 's3', region: '', account: '', resource: bucket, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    for (const st of replicationStatements(source, replica)) {
      const resources = st.resources.map((r) => {
        if (r.kind === 's3-bucket') return arnOf(r.bucket);
        if (r.kind === 's3-objects') return `${arnOf(r.bucket)}/${r.pattern}`;
        throw new Error(`internal: the replication role points at ${r.kind}`);
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: st.sid, actions: st.actions, resources }));
    }
    const partition = nagPartition(this);
    for (const bucket of [source, replica]) {
      acknowledge(role, `AwsSolutions-IAM5[Resource::arn:${partition}:s3:::${bucket}/*]`, 'S3 replication reads every object version of the origin and writes every replica: the buckets hold only the images, and the role only replicates');
    }
    const cfn = this.bucket.node.defaultChild as s3.CfnBucket;
    cfn.replicationConfiguration = {
      role: role.roleArn,
      rules: [
        {
          id: 'ImagesToReplica',
          status: 'Enabled',
          priority: 1,
          filter: { prefix: '' },
          deleteMarkerReplication: { status: 'Enabled' },
          destination: { bucket: arnOf(replica) },
        },
      ],
    };
  }
}
