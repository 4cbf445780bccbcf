// Every stack of the shipped sites: its template as a reviewable snapshot (bundle hashes named,
// see normalized()), the set of stacks, and cdk-nag with nothing left unacknowledged.
import { beforeAll, describe, expect, it } from 'vitest';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as cdkNag from 'cdk-nag';
import { noPublicIpChecks } from '../../lib/cdk/nag-network.ts';
import { shippedTexts as shipped } from '../helpers/topology.ts';
import { build, normalized, synth, type Synth } from './synth.ts';

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('the shipped sites', () => {
  it('make one stack per site plus origin and global', () => {
    expect(s.stackNames).toEqual(['anycdn-ams', 'anycdn-global', 'anycdn-nyc', 'anycdn-origin', 'anycdn-sin']);
  });

  it('put each stack in its region, all in one account', () => {
    const envs = Object.fromEntries(s.stackNames.map((n) => [n, s.assembly.getStackByName(n).environment]));
    expect(Object.fromEntries(Object.entries(envs).map(([n, e]) => [n, `${e.account}/${e.region}`]))).toEqual({
      'anycdn-ams': '111111111111/us-east-1',
      'anycdn-global': '111111111111/us-west-2',
      'anycdn-nyc': '111111111111/us-east-1',
      'anycdn-origin': '111111111111/eu-west-1',
      'anycdn-sin': '111111111111/ap-southeast-1',
    });
  });

  it.each(['anycdn-ams', 'anycdn-global', 'anycdn-nyc', 'anycdn-origin', 'anycdn-sin'])('%s matches its template snapshot', async (name) => {
    await expect(normalized(s, name)).toMatchFileSnapshot(`__snapshots__/${name}.template.json`);
  });
});

describe('free text', () => {
  it('reaches the stack descriptions in any script, as written', () => {
    const texts = { ...shipped() };
    texts['sites/sin.yaml'] = texts['sites/sin.yaml']!.replace('location: Singapore, SG', "location: \"São Paulo: Zona Sul (O'Neil), BR\"");
    texts['sites/nyc.yaml'] = texts['sites/nyc.yaml']!.replace('location: New York, US', 'location: Москва, RU');
    const probe = build(texts);
    expect(probe.stacks.get('anycdn-sin')!.templateOptions.description).toBe("anycdn: aws site sin (São Paulo: Zona Sul (O'Neil), BR)");
    expect(probe.stacks.get('anycdn-nyc')!.templateOptions.description).toBe('anycdn: metal site nyc (Москва, RU): VIP health check and host bundles');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('has no unacknowledged finding (a new finding fails here)', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('can fail: an open, unexcused security group is reported', () => {
    const probe = build();
    const stack = probe.stacks.get('anycdn-sin')!;
    const sg = new ec2.SecurityGroup(stack, 'Probe', { vpc: ec2.Vpc.fromVpcAttributes(stack, 'ProbeVpc', { vpcId: 'vpc-12345678', availabilityZones: ['ap-southeast-1a'] }), description: 'probe' });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    const report = new AwsSolutionsChecks(probe.app).validateScope(probe.app);
    expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-EC23');
  });
});

describe('cdk-nag: no public IPv4 (EC2InstanceNoPublicIp, VPCSubnetAutoAssignPublicIpDisabled)', () => {
  it('finds nothing: no instance interface asks for a public address and no subnet maps one', () => {
    const report = noPublicIpChecks(cdkNag, s.app).validateScope(s.app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('can fail: a subnet that maps public addresses and an instance that asks for one are reported', () => {
    const probe = build();
    const stack = probe.stacks.get('anycdn-sin')!;
    const subnet = new ec2.CfnSubnet(stack, 'ProbeSubnet', { vpcId: 'vpc-12345678', cidrBlock: '10.30.0.0/28', mapPublicIpOnLaunch: true });
    new ec2.CfnInstance(stack, 'ProbeInstance', { imageId: 'ami-0123456789abcdef0', networkInterfaces: [{ deviceIndex: '0', subnetId: subnet.ref, associatePublicIpAddress: true }] });
    const report = noPublicIpChecks(cdkNag, probe.app).validateScope(probe.app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)).sort()).toEqual([
      'AnycdnNoPublicIp-EC2InstanceNoPublicIp anycdn-sin/ProbeInstance',
      'AnycdnNoPublicIp-VPCSubnetAutoAssignPublicIpDisabled anycdn-sin/ProbeSubnet',
    ]);
  });
});
