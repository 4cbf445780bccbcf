// anycdn-global, anycdn-origin and the metal sites' stacks, from the shipped sites (and context
// switches where a stack has one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { assetHashOf, readAsset, synth, type Synth } from './synth.ts';
import { shippedTexts } from '../helpers/topology.ts';
import { loadTexts } from '../../lib/model/load.ts';
import { renderTopology } from '../../lib/render/index.ts';

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('anycdn-global', () => {
  it('listens on 53 over UDP and TCP', () => {
    const t = s.template('anycdn-global');
    t.resourceCountIs('AWS::GlobalAccelerator::Accelerator', 1);
    t.hasResourceProperties('AWS::GlobalAccelerator::Accelerator', { IpAddresses: Match.absent() });
    for (const protocol of ['UDP', 'TCP']) {
      t.hasResourceProperties('AWS::GlobalAccelerator::Listener', { Protocol: protocol, PortRanges: [{ FromPort: 53, ToPort: 53 }], ClientAffinity: 'NONE' });
    }
  });

  it('has one endpoint group per listener for sin, holding its dns hosts from ap-southeast-1', () => {
    const groups = Object.values(s.template('anycdn-global').findResources('AWS::GlobalAccelerator::EndpointGroup'));
    expect(groups).toHaveLength(2);
    for (const g of groups) {
      // The checker's GET /anycast: 200 only while the site's DNS and image path are healthy.
      expect(g.Properties).toMatchObject({ EndpointGroupRegion: 'ap-southeast-1', HealthCheckProtocol: 'HTTP', HealthCheckPort: 8053, HealthCheckPath: '/anycast' });
      const ids = g.Properties.EndpointConfigurations.map((e: any) => `${e.ClientIPPreservationEnabled} ${JSON.stringify(e.EndpointId)}`);
      expect(ids).toEqual([expect.stringMatching(/^true .*Refsinlb1Instance/), expect.stringMatching(/^true .*Refsinlb2Instance/)]);
    }
  });

  it('health-checks the port the model gives the checker', () => {
    const texts = shippedTexts();
    texts['sites/cdn.yaml'] = texts['sites/cdn.yaml']!.replace('healthcheck:\n', 'healthcheck:\n  statusPort: 9053\n');
    const groups = Object.values(synth(texts).template('anycdn-global').findResources('AWS::GlobalAccelerator::EndpointGroup'));
    expect(groups.map((g) => g.Properties.HealthCheckPort)).toEqual([9053, 9053]);
  });

  it('retains the accelerator (and its AWS-assigned addresses) on delete and on replacement', () => {
    s.template('anycdn-global').hasResource('AWS::GlobalAccelerator::Accelerator', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('takes the model anycast addresses, one per prefix, with -c anycdn:global-byoip=true, and then lets the accelerator go', () => {
    const byoip = synth(undefined, { 'anycdn:global-byoip': true });
    const t = byoip.template('anycdn-global');
    t.hasResourceProperties('AWS::GlobalAccelerator::Accelerator', { IpAddresses: ['192.0.2.53', '203.0.113.53'] });
    t.hasResource('AWS::GlobalAccelerator::Accelerator', { DeletionPolicy: Match.absent(), UpdateReplacePolicy: Match.absent() });
  });
});

describe('anycdn-global: delegation in a Route 53 parent zone (dns.parentZone)', () => {
  const withParent = () => {
    const texts = shippedTexts();
    texts['sites/cdn.yaml'] = texts['sites/cdn.yaml']!.replace('  ttlSec: 60\n', '  ttlSec: 60\n  parentZone: { hostedZoneId: Z0123456789ABCDEFGHIJ, name: example.net }\n');
    return texts;
  };
  const records = (t: Record<string, any>) =>
    Object.values(t.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::Route53::RecordSet').map((r) => r.Properties).sort((a, b) => (a.Name < b.Name ? -1 : 1));

  it('creates nothing in Route 53 without a parent zone', () => {
    expect(records(s.json('anycdn-global'))).toEqual([]);
  });

  it('delegates the zone to its name servers, with glue equal to the child zone\'s own A and AAAA records, BYOIP or not', () => {
    const want = [
      'NS cdn.example.net. ["ns1.cdn.example.net.","ns2.cdn.example.net."]',
      'A ns1.cdn.example.net. ["192.0.2.53"]',
      'AAAA ns1.cdn.example.net. ["2001:db8:53::53"]',
      'A ns2.cdn.example.net. ["203.0.113.53"]',
      'AAAA ns2.cdn.example.net. ["2001:db8:54::53"]',
    ];
    for (const byoip of [false, true]) {
      const got = records(synth(withParent(), { 'anycdn:global-byoip': byoip }).json('anycdn-global'));
      expect(got.map((r) => `${r.Type} ${r.Name} ${JSON.stringify(r.ResourceRecords)}`).sort(), `BYOIP ${byoip}`).toEqual([...want].sort());
      expect(got.every((r) => r.TTL === '3600' && r.HostedZoneId === 'Z0123456789ABCDEFGHIJ')).toBe(true);
    }
  });

  it('the glue is what the child zone says: the rendered zone file\'s records for each in-zone name server', () => {
    const texts = withParent();
    const zone = renderTopology(loadTexts(Object.entries(texts).map(([file, text]) => ({ file, text, global: file.endsWith('/cdn.yaml') })))).find((f) => f.path.endsWith('/cdn.example.net.zone'))!.content;
    const child = zone.split('\n').filter((l) => /^ns[12]\.cdn\.example\.net\.\s/.test(l)).map((l) => l.split(/\s+/)).map((w) => `${w[3]} ${w[0]} ["${w[4]}"]`);
    const got = records(synth(texts).json('anycdn-global')).filter((r) => r.Type !== 'NS').map((r) => `${r.Type} ${r.Name} ${JSON.stringify(r.ResourceRecords)}`);
    expect(child.length).toBe(4);
    expect(got.sort()).toEqual(child.sort());
  });

  it('no glue for name servers outside the zone, and no AAAA glue where the prefix has no IPv6', () => {
    const texts = withParent();
    texts['sites/cdn.yaml'] = texts['sites/cdn.yaml']!
      .replace('[ns1.cdn.example.net, ns2.cdn.example.net]', '[ns1.cdn.example.net, ns.example.org]')
      .replace('nameservers: [ns2.cdn.example.net]', 'nameservers: []')
      .replace('      ipv6: { prefix: "2001:db8:53::/48", address: "2001:db8:53::53" }\n', '');
    const got = records(synth(texts).json('anycdn-global'));
    expect(got.map((r) => `${r.Type} ${r.Name} ${JSON.stringify(r.ResourceRecords)}`)).toEqual([
      'NS cdn.example.net. ["ns1.cdn.example.net.","ns.example.org."]',
      'A ns1.cdn.example.net. ["192.0.2.53"]',
    ]);
  });
});

describe('anycdn-origin', () => {
  it('keeps the model bucket private, encrypted, versioned and retained', () => {
    const t = s.template('anycdn-origin');
    t.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        BucketName: 'anycdn-example-images',
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('denies plain http and lets only cache roles read', () => {
    const statements = Object.values(s.template('anycdn-origin').findResources('AWS::S3::BucketPolicy'))[0]!.Properties.PolicyDocument.Statement;
    expect(statements.map((st: any) => `${st.Effect} ${st.Sid ?? ''}`)).toEqual(['Deny ', 'Allow CachesReadImages', 'Allow CachesListSoMissingIs404']);
    expect(statements[0].Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    for (const st of statements.slice(1)) {
      // @aws-cdk/core:enablePartitionLiterals: the stack's region is known, so is its partition.
      expect(JSON.stringify(st.Condition)).toBe('{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/anycdn/cache/*"}}');
    }
  });

  it('writes access logs to a bucket of its own with -c anycdn:origin-access-logs=true', () => {
    const logs = synth(undefined, { 'anycdn:origin-access-logs': true });
    const t = logs.template('anycdn-origin');
    t.resourceCountIs('AWS::S3::Bucket', 2);
    t.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'anycdn-example-images', LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'origin/' }) });
  });
});

describe('metal site stacks', () => {
  it('health-check the VIP over HTTP at the model path (nyc) and over HTTPS with SNI (ams)', () => {
    s.template('anycdn-nyc').hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: { Type: 'HTTP', IPAddress: '198.51.100.74', Port: 80, ResourcePath: '/healthz', FullyQualifiedDomainName: 'img.cdn.example.net', RequestInterval: 30, FailureThreshold: 2 },
    });
    s.template('anycdn-ams').hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({ Type: 'HTTPS', IPAddress: '198.51.100.10', Port: 443, EnableSNI: true }),
    });
  });

  it('alarm when the health check fails, or reports nothing', () => {
    s.template('anycdn-nyc').hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      Dimensions: [{ Name: 'HealthCheckId', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^VipHealthCheck'), 'HealthCheckId'] } }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
      AlarmActions: Match.absent(),
    });
  });

  it('notify a topic given with -c anycdn:alarm-topic-arn, and synth says it when they page no one', () => {
    const arn = 'arn:aws:sns:us-east-1:111111111111:anycdn-alarms';
    const warnings = (x: Synth) =>
      x.assembly.stacks.flatMap((st) => st.messages.filter((m) => m.level === 'warning').map((m) => `${st.stackName}: ${String(m.entry.data)}`)).filter((w) => w.includes('pages no one'));
    const paged = synth(undefined, { 'anycdn:alarm-topic-arn': arn });
    paged.template('anycdn-ams').hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [arn] });
    expect(warnings(paged)).toEqual([]);
    expect(warnings(s)).toEqual([
      'anycdn-ams: the VIP alarm of site ams pages no one: set context anycdn:alarm-topic-arn to an SNS topic ARN (us-east-1) that reaches your on-call [ack: anycdn:alarm-pages-no-one]',
      'anycdn-nyc: the VIP alarm of site nyc pages no one: set context anycdn:alarm-topic-arn to an SNS topic ARN (us-east-1) that reaches your on-call [ack: anycdn:alarm-pages-no-one]',
    ]);
  });

  it('publish each host bundle as a CDK asset and point a parameter per host at it: no bucket, no Lambda, no custom resource', () => {
    const t = s.json('anycdn-nyc');
    const types = Object.values<any>(t.Resources).map((r) => r.Type).sort();
    expect(types).toEqual(['AWS::CloudWatch::Alarm', 'AWS::Route53::HealthCheck', ...Array(4).fill('AWS::IAM::ManagedPolicy'), ...Array(4).fill('AWS::SSM::Parameter')].sort());
    const assets = 'cdk-hnb659fds-assets-111111111111-us-east-1';
    const mine = s.bundles.filter((b) => b.site === 'nyc');
    expect(mine.map((b) => b.host)).toEqual(['nyc-cache1', 'nyc-cache2', 'nyc-lb1', 'nyc-lb2']);
    const manifest = JSON.parse(readFileSync(join(s.assembly.directory, 'anycdn-nyc.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string }; destinations: Record<string, { bucketName: string; objectKey: string }> }> };
    const published = new Map(Object.values(manifest.files).flatMap((f) => Object.values(f.destinations).map((d) => [`${d.bucketName}/${d.objectKey}`, f.source.path] as const)));
    for (const b of mine) {
      const key = `${assetHashOf(b.sha256)}.gz`;
      s.template('anycdn-nyc').hasResourceProperties('AWS::SSM::Parameter', { Name: `/anycdn/nyc/${b.host}/bundle`, Type: 'String', Value: `s3://${assets}/${key} ${b.sha256}` });
      // The cdk CLI publishes exactly the host's bundle under that key.
      const source = published.get(`${assets}/${key}`);
      expect(source, b.host).toBeDefined();
      expect(readAsset(s, source!).equals(b.archive)).toBe(true);
    }
  });

  it('give each host a policy that reads only its own bundle pointer and its own bundle, and move the pointer after the policy', () => {
    const t = s.json('anycdn-nyc');
    const policies = Object.entries<any>(t.Resources).filter(([, r]) => r.Type === 'AWS::IAM::ManagedPolicy');
    const got = policies.map(([, p]) => JSON.stringify(p.Properties.PolicyDocument.Statement.map((st: any) => [st.Sid, st.Action, st.Resource]))).sort();
    const want = s.bundles.filter((b) => b.site === 'nyc').map((b) => JSON.stringify([
      ['ReadOwnBundlePointer', 'ssm:GetParameter', `arn:aws:ssm:us-east-1:111111111111:parameter/anycdn/nyc/${b.host}/bundle`],
      ['PullOwnBundle', 's3:GetObject', `arn:aws:s3:::cdk-hnb659fds-assets-111111111111-us-east-1/${assetHashOf(b.sha256)}.gz`],
    ]));
    expect(got).toEqual(want.sort());
    for (const [id, r] of Object.entries<any>(t.Resources).filter(([, r]) => r.Type === 'AWS::SSM::Parameter')) {
      const host = /^\/anycdn\/nyc\/(.+)\/bundle$/.exec(r.Properties.Name)![1]!;
      const policy = policies.find(([, p]) => p.Properties.Description.endsWith(`host ${host} pull its own config bundle`))!;
      expect(r.DependsOn, id).toEqual([policy[0]]);
    }
  });
});
