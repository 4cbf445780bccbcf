// The CDK app and the Pulumi program build the same thing: for every stack, the normalized view
// (view.ts) of the synthesized CDK template equals the view of the Pulumi resources under mocks.
// Hosts and addresses, ports and sources per security group, IAM actions and resources, bundle
// hashes, accelerator listeners and endpoints, health check and alarm. The drift tests prove the
// comparison fails, from either side. The view of each stack is a snapshot a reviewer reads.
import { beforeAll, describe, expect, it } from 'vitest';
import { shippedTexts } from '../helpers/topology.ts';
import { edit } from '../model/fixtures.ts';
import { synth, type Synth } from '../cdk/synth.ts';
import { runStack, stackName, type Recorded, type Run } from './harness.ts';
import { cdkView } from './view-cdk.ts';
import { pulumiView } from './view-pulumi.ts';
import { compareViews, viewText, type StackView } from './view.ts';

const STACKS = ['ams', 'global', 'nyc', 'origin', 'sin'];

let s: Synth;
const runs: Record<string, Run> = {};
const views: Record<string, { cdk: StackView; pulumi: StackView }> = {};

const others = (stack: string) => (stack === 'global' ? [runs.sin!] : []);

beforeAll(async () => {
  s = synth();
  for (const stack of ['origin', 'ams', 'nyc', 'sin']) runs[stack] = await runStack(stack);
  runs.global = await runStack('global', { stackOutputs: { [stackName('sin')]: runs.sin!.outputs } });
  for (const stack of STACKS) views[stack] = { cdk: cdkView(s, stack), pulumi: await pulumiView(runs[stack]!, s.bundles, others(stack)) };
});

describe('the same stacks', () => {
  it('CDK and Pulumi have one stack per site plus origin and global', () => {
    expect(s.stackNames).toEqual(STACKS.map((n) => `anycdn-${n}`));
  });
});

describe.each(STACKS)('%s', (stack) => {
  it('has the same normalized view in CDK and Pulumi', () => {
    expect(compareViews(views[stack]!.cdk, views[stack]!.pulumi)).toEqual([]);
  });

  it('matches its view snapshot', async () => {
    await expect(viewText(views[stack]!.cdk, s.bundles)).toMatchFileSnapshot(`__snapshots__/${stack}.view.json`);
  });
});

describe('the views are not empty where the stack has things to compare', () => {
  it('sin: four hosts, four groups, a bundle per host that is the rendered one', () => {
    const v = views.sin!.cdk;
    expect(Object.keys(v.hosts ?? {}).sort()).toEqual(['sin-cache1', 'sin-cache2', 'sin-lb1', 'sin-lb2']);
    expect(Object.keys(v.securityGroups ?? {}).sort()).toEqual(['base', 'cache', 'dns', 'lb']);
    for (const b of s.bundles.filter((x) => x.site === 'sin')) expect(v.bundles[b.host]).toEqual({ published: b.sha256, verified: b.sha256 });
    expect(v.iam['role:sin-lb1']!.some((l) => l.includes('<bundle:sin-lb1>'))).toBe(true);
  });

  it('global: the sin dns hosts behind both listeners', () => {
    expect(views.global!.cdk.accelerator?.endpointGroups['UDP ap-southeast-1']?.endpoints).toEqual(['<instance:sin-lb1> client-ip', '<instance:sin-lb2> client-ip']);
  });
});

describe('with the switches on, CDK context and Pulumi config still agree', () => {
  it('BYOIP on the accelerator, an SNS topic on the metal sites\' alarms, origin access logs', async () => {
    const topic = 'arn:aws:sns:us-east-1:111111111111:anycdn-alarms';
    const on = synth(undefined, { 'anycdn:global-byoip': true, 'anycdn:alarm-topic-arn': topic, 'anycdn:origin-access-logs': true });
    const global = await runStack('global', { settings: { globalByoip: true }, stackOutputs: { [stackName('sin')]: runs.sin!.outputs } });
    const ams = await runStack('ams', { settings: { alarmTopicArn: topic } });
    const cdkGlobal = cdkView(on, 'global');
    const cdkAms = cdkView(on, 'ams');
    expect(cdkGlobal.accelerator?.ipAddresses).toEqual(['192.0.2.53', '203.0.113.53']);
    expect(cdkAms.alarm).toMatch(/ actions=arn:aws:sns:us-east-1:111111111111:anycdn-alarms$/);
    expect(compareViews(cdkGlobal, await pulumiView(global, on.bundles, [runs.sin!]))).toEqual([]);
    expect(compareViews(cdkAms, await pulumiView(ams, on.bundles))).toEqual([]);
    const origin = await runStack('origin', { settings: { originAccessLogs: true } });
    const cdkOrigin = cdkView(on, 'origin');
    expect(cdkOrigin.buckets).toEqual({
      '<access-logs-bucket>': 'versioning=none sse=AES256 block-public=true ownership=BucketOwnerPreferred acl=LogDeliveryWrite lifecycle=Enabled:expire-90d',
      'anycdn-example-images': 'versioning=Enabled sse=AES256 block-public=true ownership=BucketOwnerEnforced logging=<access-logs-bucket>/origin/',
    });
    expect(compareViews(cdkOrigin, await pulumiView(origin, on.bundles))).toEqual([]);
  });
});

describe('with a Route 53 parent zone, both delegate the zone alike', () => {
  it.each([false, true])('BYOIP %s', async (byoip) => {
    const texts = edit(shippedTexts(), ['sites/cdn.yaml', '  ttlSec: 60\n', '  ttlSec: 60\n  parentZone: { hostedZoneId: Z0123456789ABCDEFGHIJ, name: example.net }\n']);
    const cdk = cdkView(synth(texts, { 'anycdn:global-byoip': byoip }), 'global');
    const run = await runStack('global', { texts, settings: { globalByoip: byoip }, stackOutputs: { [stackName('sin')]: runs.sin!.outputs } });
    // The child zone's own records, BYOIP or not: each name server at its own prefix's addresses.
    expect(cdk.delegation).toEqual([
      'A ns1.cdn.example.net. ttl 3600 in Z0123456789ABCDEFGHIJ -> 192.0.2.53',
      'A ns2.cdn.example.net. ttl 3600 in Z0123456789ABCDEFGHIJ -> 203.0.113.53',
      'AAAA ns1.cdn.example.net. ttl 3600 in Z0123456789ABCDEFGHIJ -> 2001:db8:53::53',
      'AAAA ns2.cdn.example.net. ttl 3600 in Z0123456789ABCDEFGHIJ -> 2001:db8:54::53',
      'NS cdn.example.net. ttl 3600 in Z0123456789ABCDEFGHIJ -> ns1.cdn.example.net.,ns2.cdn.example.net.',
    ]);
    expect(compareViews(cdk, await pulumiView(run, s.bundles, [runs.sin!]))).toEqual([]);
  });
});

/** A deep copy of a template, changed by `change`. */
function perturbed(stack: string, change: (resources: Record<string, any>) => void): any {
  const t = structuredClone(s.json(`anycdn-${stack}`));
  change(t.Resources);
  return t;
}

/** A copy of a run with its resources changed by `change`. */
function perturbedRun(run: Run, change: (resources: Recorded[]) => void): Run {
  // Inputs are copied; file assets (whose path is a promise) and states are shared.
  const resources: Recorded[] = run.resources.map((r) => {
    const { source, ...rest } = r.inputs;
    return { ...r, inputs: { ...structuredClone(rest), ...(source ? { source } : {}) } };
  });
  change(resources);
  return { ...run, resources, ofType: (type) => resources.filter((r) => r.type === type), byId: (id) => resources.find((r) => r.id === id) };
}

describe('drift is reported, from either side', () => {
  it('an extra port in the CDK template', () => {
    const t = perturbed('sin', (res) => {
      const lb = Object.values(res).find((r) => r.Metadata?.['aws:cdk:path'] === 'anycdn-sin/lb-sg/Resource');
      lb.Properties.SecurityGroupIngress.push({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080 });
    });
    expect(compareViews(cdkView(s, 'sin', t), views.sin!.pulumi)).toEqual(['securityGroups.lb.rules: only in cdk: in tcp/8080-8080 from 0.0.0.0/0']);
  });

  it('an extra port in the Pulumi resources', async () => {
    const run = perturbedRun(runs.sin!, (res) => {
      const http = res.find((r) => r.name === 'sin-lb-in-tcp80-any')!;
      res.push({ ...http, name: 'sin-lb-in-tcp8080-any', id: 'sgr-extra', inputs: { ...http.inputs, fromPort: 8080, toPort: 8080 } });
    });
    expect(compareViews(views.sin!.cdk, await pulumiView(run, s.bundles))).toEqual(['securityGroups.lb.rules: only in pulumi: in tcp/8080-8080 from 0.0.0.0/0']);
  });

  it('a Pulumi program built from another model (https on sin): port 443 and the lb bundles differ', async () => {
    const texts = edit(shippedTexts(), ['sites/sin.yaml', '\nhosts:', '\nhaproxy:\n  https:\n    certPath: /etc/haproxy/certs/img.pem\n\nhosts:']);
    const run = await runStack('sin', { texts });
    const diff = compareViews(views.sin!.cdk, await pulumiView(run, s.bundles));
    expect(diff).toContain('securityGroups.lb.rules: only in pulumi: in tcp/443-443 from 0.0.0.0/0');
    expect(diff.filter((d) => /^bundles\.sin-lb1\.(published|verified): cdk "[0-9a-f]{64}", pulumi "[0-9a-f]{64}"$/.test(d))).toHaveLength(2);
    expect(diff.some((d) => d.startsWith('iam.role:sin-lb1: only in pulumi:') && d.includes('<bundle:unknown sha256='))).toBe(true);
    // The caches' bundles and roles do not change with the lb's https.
    expect(diff.filter((d) => d.includes('sin-cache'))).toEqual([]);
  });

  it('a Pulumi instance that pins its address again, and one named by another replacement key', async () => {
    const run = perturbedRun(runs.sin!, (res) => {
      const lb1 = res.find((r) => r.type === 'aws:ec2/instance:Instance' && r.inputs.tags.Name === 'sin-lb1')!;
      lb1.inputs.privateIp = '10.30.0.11';
      const cache1 = res.find((r) => r.type === 'aws:ec2/instance:Instance' && r.inputs.tags.Name === 'sin-cache1')!;
      cache1.name = cache1.name.replace(/-[0-9a-f]{12}$/, '-000000000000');
    });
    const diff = compareViews(views.sin!.cdk, await pulumiView(run, s.bundles));
    expect(diff).toEqual([
      expect.stringMatching(/^hosts\.sin-cache1\.image: cdk "ami-0123456789abcdef0 key [0-9a-f]{12}", pulumi "ami-0123456789abcdef0 key 000000000000"$/),
      'hosts.sin-lb1.address: cdk "claims 10.30.0.11 in 10.30.0.0/24 on ens5, pins none", pulumi "claims 10.30.0.11 in 10.30.0.0/24 on ens5, pins 10.30.0.11"',
    ]);
  });

  it('an IAM action changed on the Pulumi side', async () => {
    const run = perturbedRun(runs.sin!, (res) => {
      const p = res.find((r) => r.name === 'sin-cache1-policy')!;
      p.inputs.policy = p.inputs.policy.replace('"s3:ListBucket"', '"s3:ListBucketVersions"');
    });
    const diff = compareViews(views.sin!.cdk, await pulumiView(run, s.bundles));
    expect(diff).toEqual([
      'iam.role:sin-cache1: only in cdk: Allow ListOriginSoMissingIs404 | actions s3:ListBucket | on arn:aws:s3:::anycdn-example-images',
      'iam.role:sin-cache1: only in pulumi: Allow ListOriginSoMissingIs404 | actions s3:ListBucketVersions | on arn:aws:s3:::anycdn-example-images',
    ]);
  });

  it('an accelerator endpoint missing on the CDK side', () => {
    const t = perturbed('global', (res) => {
      const udp = Object.values(res).find((r) => r.Type === 'AWS::GlobalAccelerator::EndpointGroup' && r.Metadata['aws:cdk:path'].startsWith('anycdn-global/sin-UDP'));
      udp.Properties.EndpointConfigurations.pop();
    });
    expect(compareViews(cdkView(s, 'global', t), views.global!.pulumi)).toEqual(['accelerator.endpointGroups.UDP ap-southeast-1.endpoints: only in pulumi: <instance:sin-lb2> client-ip']);
  });

  it('a metal bundle pointer whose checksum disagrees on the Pulumi side', async () => {
    const run = perturbedRun(runs.nyc!, (res) => {
      const pointer = res.find((r) => r.inputs.name === '/anycdn/nyc/nyc-lb1/bundle')!;
      pointer.inputs.insecureValue = String(pointer.inputs.insecureValue).replace(/[0-9a-f]{64}$/, '0'.repeat(64));
    });
    const b = s.bundles.find((x) => x.host === 'nyc-lb1')!;
    expect(compareViews(views.nyc!.cdk, await pulumiView(run, s.bundles))).toEqual([
      `bundlePointers: only in cdk: /anycdn/nyc/nyc-lb1/bundle String -> <bundle:nyc-lb1> ${b.sha256}`,
      `bundlePointers: only in pulumi: /anycdn/nyc/nyc-lb1/bundle String -> <bundle:nyc-lb1> ${'0'.repeat(64)}`,
      `bundles.nyc-lb1.verified: cdk "${b.sha256}", pulumi "${'0'.repeat(64)}"`,
    ]);
  });
});
