// A change in sites/*.yaml changes exactly the resources it should, as @aws-cdk/cloudformation-diff
// sees two synths: what a reviewer would read in `cdk diff`.
import { beforeAll, describe, expect, it } from 'vitest';
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import { edit, type Texts } from '../model/fixtures.ts';
import { shippedTexts as shipped } from '../helpers/topology.ts';
import { synth, type Synth } from './synth.ts';

let base: Synth;
beforeAll(() => {
  base = synth();
});

/** Every changed resource, output and parameter as "stack kind logicalId how", sorted. */
function changes(texts: Texts): string[] {
  const next = synth(texts);
  expect(next.stackNames).toEqual(base.stackNames);
  const out: string[] = [];
  for (const name of base.stackNames) {
    const diff = fullDiff(base.json(name) as any, next.json(name) as any);
    diff.resources.forEachDifference((id, c) => {
      const how = c.isAddition ? 'added' : c.isRemoval ? 'removed' : `updated(${Object.keys(c.propertyUpdates).sort().join(',')})`;
      // A host's wait condition is named by the key of its version (lib/cloud/rollout.ts).
      out.push(`${name} ${c.resourceType} ${id.replace(/[0-9A-F]{8}$/, '').replace(/(Ready(?:Handle)?)[0-9a-f]{12}$/, '$1<key>')} ${how}`);
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
      'anycdn-sin AWS::EC2::Instance sinlb1Instance updated(UserData)',
      'anycdn-sin AWS::EC2::Instance sinlb2Instance updated(UserData)',
      'anycdn-sin AWS::IAM::Policy sinlb1RoleDefaultPolicy updated(PolicyDocument)',
      'anycdn-sin AWS::IAM::Policy sinlb2RoleDefaultPolicy updated(PolicyDocument)',
    ]);
  });

  it('ams BGP peer: only the bundles ams publishes to its config bucket change', () => {
    expect(changes(edit(shipped(), ['sites/ams.yaml', '      asn: 64501\n      bfd: true\n      passwordRef', '      asn: 64501\n      bfd: false\n      passwordRef']))).toEqual([
      'anycdn-ams Custom::CDKBucketDeployment BundlesCustomResource updated(SourceObjectKeys)',
    ]);
  });
});
