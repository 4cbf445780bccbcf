// A change in sites/*.yaml changes exactly the resources it should, as @aws-cdk/cloudformation-diff
// sees two synths: what a reviewer would read in `cdk diff`.
import { beforeAll, describe, expect, it } from 'vitest';
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { edit, type Texts } from '../model/fixtures.ts';
import { shippedTexts as shipped } from '../helpers/topology.ts';
import { synth, type Synth } from './synth.ts';

let base: Synth;
beforeAll(() => {
  base = synth();
});

/** Every changed resource, output and parameter as "stack kind logicalId how", sorted. */
function changes(texts: Texts, context: Record<string, unknown> = {}): string[] {
  const next = synth(texts, context);
  expect(next.stackNames).toEqual(base.stackNames);
  const out: string[] = [];
  for (const name of base.stackNames) {
    const diff = fullDiff(base.json(name) as any, next.json(name) as any);
    diff.resources.forEachDifference((id, c) => {
      const how = c.isAddition ? 'added' : c.isRemoval ? 'removed' : `updated(${Object.keys(c.propertyUpdates).sort().join(',')})`;
      // A host's wait condition and instance are named by the keys of its version (lib/cloud/rollout.ts).
      // CloudFormation replacing a resource under the same id is what the keys exist to avoid. (The
      // spec says MAY_REPLACE for UserData and InstanceType: a stop and start on EBS-backed instances.)
      const replaced = c.changeImpact === ResourceImpact.WILL_REPLACE ? ' REPLACED IN PLACE' : '';
      out.push(`${name} ${c.resourceType} ${id.replace(/[0-9A-F]{8}$/, '').replace(/(Ready(?:Handle)?|Instance)[0-9a-f]{12}/g, '$1<key>')} ${how}${replaced}`);
    });
    diff.outputs.forEachDifference((id) => out.push(`${name} output ${id}`));
    diff.parameters.forEachDifference((id) => out.push(`${name} parameter ${id}`));
  }
  return out.sort();
}

describe('a site YAML change', () => {
  it('sin advert interval: only the lb pair of sin takes a new bundle, and a fresh wait condition each', () => {
    expect(changes(edit(shipped(), ['sites/sin.yaml', '  advertIntervalMs: 100', '  advertIntervalMs: 200']))).toEqual([
      'anycdn-sin AWS::CloudFormation::WaitCondition sinlb1Ready<key> added',
      'anycdn-sin AWS::CloudFormation::WaitCondition sinlb1Ready<key> removed',
      'anycdn-sin AWS::CloudFormation::WaitCondition sinlb2Ready<key> added',
      'anycdn-sin AWS::CloudFormation::WaitCondition sinlb2Ready<key> removed',
      'anycdn-sin AWS::CloudFormation::WaitConditionHandle sinlb1ReadyHandle<key> added',
      'anycdn-sin AWS::CloudFormation::WaitConditionHandle sinlb1ReadyHandle<key> removed',
      'anycdn-sin AWS::CloudFormation::WaitConditionHandle sinlb2ReadyHandle<key> added',
      'anycdn-sin AWS::CloudFormation::WaitConditionHandle sinlb2ReadyHandle<key> removed',
      'anycdn-sin AWS::EC2::Instance sinlb1Instance<key> updated(UserData)',
      'anycdn-sin AWS::EC2::Instance sinlb2Instance<key> updated(UserData)',
      'anycdn-sin AWS::IAM::Policy sinlb1RoleDefaultPolicy updated(PolicyDocument)',
      'anycdn-sin AWS::IAM::Policy sinlb2RoleDefaultPolicy updated(PolicyDocument)',
    ]);
  });

  /** What replacing one sin host looks like: a new instance (and profile) and a new wait condition. */
  const replaced = (host: string) =>
    ['EC2::Instance', 'IAM::InstanceProfile', 'CloudFormation::WaitCondition', 'CloudFormation::WaitConditionHandle'].flatMap((type) => {
      const id = { 'EC2::Instance': 'Instance<key>', 'IAM::InstanceProfile': 'Instance<key>InstanceProfile', 'CloudFormation::WaitCondition': 'Ready<key>', 'CloudFormation::WaitConditionHandle': 'ReadyHandle<key>' }[type];
      return ['added', 'removed'].map((how) => `anycdn-sin AWS::${type} ${host.replace('-', '')}${id} ${how}`);
    });

  it('a new pinned AMI: every sin host is a new instance beside the old one, gated afresh, and the accelerator follows', () => {
    expect(changes(shipped(), { 'anycdn:debian-ami': { 'ap-southeast-1': 'ami-0fedcba9876543210' } })).toEqual(
      [
        ...['sin-cache1', 'sin-cache2', 'sin-lb1', 'sin-lb2'].flatMap(replaced),
        'anycdn-sin Custom::CrossRegionExportWriter ExportsWriteruswest209BD44F0 updated(WriterProps)',
        'anycdn-global AWS::GlobalAccelerator::EndpointGroup sinTCP updated(EndpointConfigurations)',
        'anycdn-global AWS::GlobalAccelerator::EndpointGroup sinUDP updated(EndpointConfigurations)',
        'anycdn-global Custom::CrossRegionExportReader ExportsReader updated(ReaderProps)',
      ].sort(),
    );
  });

  it('a bigger nginx cache: the nginx caches are replaced (sin) or take a new bundle (ams), nothing is replaced in place', () => {
    const next = changes(edit(shipped(), ['sites/cdn.yaml', 'cache:\n  keyIncludesQuery: false', 'cache:\n  nginx: { maxSizeGiB: 80 }\n  keyIncludesQuery: false']));
    expect(next.filter((c) => c.includes('REPLACED IN PLACE'))).toEqual([]);
    expect(next.filter((c) => /Instance<key> (added|removed)$/.test(c))).toEqual(['sin-cache1', 'sin-cache2'].flatMap((h) => [`anycdn-sin AWS::EC2::Instance ${h.replace('-', '')}Instance<key> added`, `anycdn-sin AWS::EC2::Instance ${h.replace('-', '')}Instance<key> removed`]));
  });

  it('ams BGP peer: only the two lb hosts\' bundle pointers and pull policies move to their new bundles', () => {
    expect(changes(edit(shipped(), ['sites/ams.yaml', '      asn: 64501\n      bfd: true\n      passwordRef', '      asn: 64501\n      bfd: false\n      passwordRef']))).toEqual([
      'anycdn-ams AWS::IAM::ManagedPolicy Pullamslb1 updated(PolicyDocument)',
      'anycdn-ams AWS::IAM::ManagedPolicy Pullamslb2 updated(PolicyDocument)',
      'anycdn-ams AWS::SSM::Parameter BundlePointeramslb1 updated(Value)',
      'anycdn-ams AWS::SSM::Parameter BundlePointeramslb2 updated(Value)',
    ]);
  });
});
