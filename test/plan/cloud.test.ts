// The cloud half of a plan: stacks synthesized in-process before and after an edit, diffed offline.
// An instance-replacing edit is a cloud-replacement at the top; an edit that only changes bundles
// is an interruption of exactly the instances whose bundle changed, and the text shown carries no
// bundle hashes, wait-condition versions or bootstrap blobs.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readCdkJson } from '../../lib/plan/cdk-json.ts';
import { diffStacks, synthTemplates } from '../../lib/plan/cloud.ts';
import { renderTopology } from '../../lib/render/index.ts';
import { formatPlan } from '../../lib/plan/format.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { edit, load, shipped, type Texts } from '../model/fixtures.ts';
import { classLines, planOf } from './harness.ts';

const CONTEXT = readCdkJson(join(import.meta.dirname, '..', '..', 'sites')).context;
const synth = (t: Topology) => synthTemplates(t, renderTopology(t), CONTEXT);
let base: ReturnType<typeof synth>;
beforeAll(() => {
  base = synth(load(shipped()));
}, 300_000);

function cloudOf(texts: Texts) {
  return diffStacks(base, synth(load(texts)));
}

describe('cloud stacks in a plan', () => {
  it('a bigger nginx cache replaces the aws caches (a new root volume size, so a new replacement key), and that comes first', { timeout: 300_000 }, async () => {
    const texts = edit(shipped(), ['sites/cdn.yaml', '  keyIncludesQuery: false\n', '  keyIncludesQuery: false\n  nginx: { maxSizeGiB: 80 }\n']);
    const cloud = cloudOf(texts);
    // ams's nginx caches get the bigger cache through their bundle; sin's instances are replaced.
    expect(cloud.map((c) => c.stack)).toEqual(['anycdn-ams', 'anycdn-sin']);
    const sin = cloud.find((c) => c.stack === 'anycdn-sin')!;
    expect(sin.impact).toBe('cloud-replacement');
    expect(sin.impacts.slice(0, 2)).toMatchObject([
      { class: 'cloud-replacement', resource: 'sincache1Instance AWS::EC2::Instance' },
      { class: 'cloud-replacement', resource: 'sincache2Instance AWS::EC2::Instance' },
    ]);
    expect(sin.impacts[0]!.reason).toMatch(/^its replacement key changed/);
    // The old instances are part of the replacements, not removals of their own.
    expect(sin.impacts.filter((i) => i.class === 'cloud-remove' && i.resource.endsWith('AWS::EC2::Instance'))).toEqual([]);
    const plan = planOf(texts, cloud);
    expect(classLines(plan).filter((l) => l.startsWith('anycdn-sin'))).toContain('anycdn-sin sincache2Instance AWS::EC2::Instance cloud-replacement');
    const text = formatPlan(plan, false);
    const attention = text.indexOf('Needs attention (replacements and broadenings first):');
    expect(text[attention + 1]).toMatch(/^ {2}cloud-replacement {2}anycdn-sin sincache1Instance AWS::EC2::Instance: its replacement key changed/);
    await expect(`${text.join('\n')}\n`).toMatchFileSnapshot('golden/instance-replacement.txt');
  });

  it('an advert interval at an aws site: both lb instances stop and start, nothing is broadened, no hash in the text', { timeout: 300_000 }, () => {
    const cloud = cloudOf(edit(shipped(), ['sites/sin.yaml', 'advertIntervalMs: 100', 'advertIntervalMs: 200']));
    expect(cloud.map((c) => c.stack)).toEqual(['anycdn-sin']);
    const lines = cloud[0]!.impacts.map((i) => `${i.class} ${i.resource.replace(/[0-9A-F]{8} /, ' ')}`);
    expect(lines).toEqual([
      'cloud-interruption sinlb1Instance AWS::EC2::Instance',
      'cloud-interruption sinlb2Instance AWS::EC2::Instance',
      'cloud-update sinlb1RoleDefaultPolicy AWS::IAM::Policy',
      'cloud-update sinlb2RoleDefaultPolicy AWS::IAM::Policy',
    ]);
    expect(cloud[0]!.diff).not.toMatch(/[0-9a-f]{64}|BUNDLE_SHA256|may be replaced/);
  });
});
