// The Pulumi twins of anycdn-origin-replica and of anycdn-origin with a replica (issue 17): the
// replica bucket in its own stack and region, S3 replication into it with a role of exactly
// lib/cloud/iam.ts's statements, after the source's versioning, and cache roles reading both.
import { describe, expect, it } from 'vitest';
import { edit, load, shipped } from '../model/fixtures.ts';
import { runStack, type Recorded } from './harness.ts';

const texts = edit(shipped(), [
  'sites/cdn.yaml',
  'origin:\n  s3:\n    bucket: anycdn-example-images\n    region: eu-west-1\n',
  'origin:\n  - s3: { bucket: anycdn-example-images, region: eu-west-1 }\n  - s3: { bucket: anycdn-example-images-replica, region: eu-central-1 }\n',
]);
const topology = load(texts);
const doc = (r: Recorded) => JSON.parse(r.inputs.policy) as { Statement: any[] };
const BUCKET = 'aws:s3/bucket:Bucket';

describe('Pulumi origin stacks with a replica', () => {
  it('origin-replica: the replica bucket in eu-central-1, versioned, readable by cache roles only', async () => {
    const run = await runStack('origin-replica', { topology, settings: { region: 'eu-central-1' } });
    expect(run.ofType(BUCKET).map((b) => [b.name, b.inputs.bucket])).toEqual([['origin-replica', 'anycdn-example-images-replica']]);
    expect(run.get('aws:s3/bucketVersioning:BucketVersioning', 'origin-replica-versioning').inputs.versioningConfiguration).toEqual({ status: 'Enabled' });
    const st = doc(run.ofType('aws:s3/bucketPolicy:BucketPolicy')[0]!).Statement;
    expect(st.map((x) => x.Sid ?? x.Effect)).toEqual(['Deny', 'CachesReadImages', 'CachesListSoMissingIs404']);
    expect(st[1].Condition).toEqual({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/anycdn/cache/*' } });
    expect(run.ofType('aws:s3/bucketReplicationConfig:BucketReplicationConfig')).toEqual([]);
    expect(run.ofType('aws:iam/role:Role')).toEqual([]);
  });

  it('origin: replicates every version and delete marker to the replica with a role S3 assumes', async () => {
    const run = await runStack('origin', { topology });
    const rc = run.get('aws:s3/bucketReplicationConfig:BucketReplicationConfig', 'origin-replication').inputs;
    expect(rc.bucket).toBe('anycdn-example-images');
    expect(rc.rules).toEqual([
      { id: 'ImagesToReplica', status: 'Enabled', priority: 1, filter: { prefix: '' }, deleteMarkerReplication: { status: 'Enabled' }, destination: { bucket: 'arn:aws:s3:::anycdn-example-images-replica' } },
    ]);
    const role = run.get('aws:iam/role:Role', 'origin-replication');
    expect(rc.role).toBe(role.state.arn);
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    expect(doc(run.get('aws:iam/rolePolicy:RolePolicy', 'origin-replication-policy')).Statement.map((x) => [x.Sid, x.Action, x.Resource])).toEqual([
      ['ReadReplicationConfiguration', ['s3:GetReplicationConfiguration', 's3:ListBucket'], 'arn:aws:s3:::anycdn-example-images'],
      ['ReadSourceVersions', ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], 'arn:aws:s3:::anycdn-example-images/*'],
      ['WriteReplicas', ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], 'arn:aws:s3:::anycdn-example-images-replica/*'],
    ]);
  });

  it('sin: cache roles read both buckets', async () => {
    const run = await runStack('sin', { topology });
    const caches = run.ofType('aws:iam/rolePolicy:RolePolicy').filter((p) => /^sin-cache\d/.test(p.name));
    expect(caches).toHaveLength(2);
    for (const p of caches) {
      const st = doc(p).Statement;
      expect(st.find((x) => x.Sid === 'ReadOrigin').Resource).toEqual(['arn:aws:s3:::anycdn-example-images/*', 'arn:aws:s3:::anycdn-example-images-replica/*']);
      expect(st.find((x) => x.Sid === 'ListOriginSoMissingIs404').Resource).toEqual(['arn:aws:s3:::anycdn-example-images', 'arn:aws:s3:::anycdn-example-images-replica']);
    }
  });
});
