// A second S3 origin (issue 17): the replica bucket in its own stack and region, S3 replication
// into it from anycdn-origin with a role of exactly lib/cloud/iam.ts's statements, and cache roles
// that read both buckets. cdk-nag has nothing left unacknowledged.
import { beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build, synth, type Synth } from './synth.ts';
import { edit, shipped } from '../model/fixtures.ts';

const REPLICA_TEXTS = edit(shipped(), [
  'sites/cdn.yaml',
  'origin:\n  s3:\n    bucket: anycdn-example-images\n    region: eu-west-1\n',
  'origin:\n  - s3: { bucket: anycdn-example-images, region: eu-west-1 }\n  - s3: { bucket: anycdn-example-images-replica, region: eu-central-1 }\n',
]);

let s: Synth;
beforeAll(() => {
  s = synth(REPLICA_TEXTS);
}, 300_000);

describe('anycdn-origin-replica', () => {
  it('is a stack of its own in the replica region, deployed before anycdn-origin', () => {
    expect(s.stackNames).toContain('anycdn-origin-replica');
    const replica = s.assembly.getStackByName('anycdn-origin-replica');
    expect(replica.environment.region).toBe('eu-central-1');
    const origin = s.assembly.getStackByName('anycdn-origin');
    expect(origin.environment.region).toBe('eu-west-1');
    expect(origin.dependencies.map((d) => d.id)).toContain('anycdn-origin-replica');
  });

  it('holds the replica bucket: versioned, private, retained, readable by cache roles only', () => {
    const t = s.template('anycdn-origin-replica');
    t.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({ BucketName: 'anycdn-example-images-replica', VersioningConfiguration: { Status: 'Enabled' } }),
      DeletionPolicy: 'Retain',
    });
    const statements = Object.values(t.findResources('AWS::S3::BucketPolicy'))[0]!.Properties.PolicyDocument.Statement;
    expect(statements.map((st: any) => `${st.Effect} ${st.Sid ?? ''}`)).toEqual(['Deny ', 'Allow CachesReadImages', 'Allow CachesListSoMissingIs404']);
    expect(JSON.stringify(statements[1].Condition)).toBe('{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/anycdn/cache/*"}}');
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.resourceCountIs('AWS::IAM::Role', 0);
  });
});

describe('anycdn-origin with a replica', () => {
  it('replicates every object version and delete marker to the replica, by ARN', () => {
    const bucket = Object.values(s.template('anycdn-origin').findResources('AWS::S3::Bucket'))[0]!;
    const rc = bucket.Properties.ReplicationConfiguration;
    expect(rc.Rules).toEqual([
      { Id: 'ImagesToReplica', Status: 'Enabled', Priority: 1, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Enabled' }, Destination: { Bucket: 'arn:aws:s3:::anycdn-example-images-replica' } },
    ]);
    expect(JSON.stringify(rc.Role)).toMatch(/ReplicationRole/);
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('gives the replication role S3 trust and exactly the replication statements', () => {
    const t = s.template('anycdn-origin');
    t.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 's3.amazonaws.com' } })] }) });
    const policy = Object.values(t.findResources('AWS::IAM::Policy'))[0]!.Properties.PolicyDocument.Statement;
    // @aws-cdk/aws-iam:minimizePolicies sorts the actions.
    expect(policy.map((st: any) => [st.Sid, st.Action, st.Resource])).toEqual([
      ['ReadReplicationConfiguration', ['s3:GetReplicationConfiguration', 's3:ListBucket'], 'arn:aws:s3:::anycdn-example-images'],
      ['ReadSourceVersions', ['s3:GetObjectVersionAcl', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionTagging'], 'arn:aws:s3:::anycdn-example-images/*'],
      ['WriteReplicas', ['s3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags'], 'arn:aws:s3:::anycdn-example-images-replica/*'],
    ]);
  });

  it('lets the aws site cache roles read both buckets', () => {
    const policies = Object.values(s.template('anycdn-sin').findResources('AWS::IAM::Policy')).filter((p: any) => /^anycdn-sin\/sin-cache\d\/Role\/DefaultPolicy\/Resource$/.test(p.Metadata['aws:cdk:path']));
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      const st = (p as any).Properties.PolicyDocument.Statement;
      expect(st.find((x: any) => x.Sid === 'ReadOrigin').Resource).toEqual(['arn:aws:s3:::anycdn-example-images-replica/*', 'arn:aws:s3:::anycdn-example-images/*']); // minimizePolicies sorts
      expect(st.find((x: any) => x.Sid === 'ListOriginSoMissingIs404').Resource).toEqual(['arn:aws:s3:::anycdn-example-images', 'arn:aws:s3:::anycdn-example-images-replica']);
    }
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const probe = build(REPLICA_TEXTS);
    const report = new AwsSolutionsChecks(probe.app).validateScope(probe.app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
  });
});
