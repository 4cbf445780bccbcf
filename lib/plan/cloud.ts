// The cloud half of a plan: each stack's template before and after, diffed offline with
// @aws-cdk/cloudformation-diff. The impacts come from the raw diff (what CloudFormation will do);
// the text shown comes from templates with the noise taken out: asset and bundle hashes (the host
// files show what changed inside a bundle), the per-version wait-condition names, and the
// bootstrap user data (reduced to a digest, so a real bootstrap change is still one line).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fullDiff, formatDifferences, formatSecurityChanges, ResourceImpact, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../cdk/app.ts';
import { builtinValidation } from '../cdk/context.ts';
import type { Topology } from '../model/schema.ts';
import type { HostPlan } from '../render/index.ts';
import { IMPACTS, worst } from './impact.ts';
import type { CloudChange, CloudImpact } from './types.ts';

type Template = Record<string, any>;

/**
 * Every stack's template for a topology and its hosts' plans, synthesized in-process with the
 * context of cdk.json (as `cdk synth` would have it; lib/plan/cdk-json.ts finds and reads it).
 * Assets go to a temporary directory, removed whatever happens.
 */
export function synthTemplates(t: Topology, plans: HostPlan[], context: Record<string, unknown>, opts: { nag?: boolean } = {}): Map<string, Template> {
  const outdir = mkdtempSync(join(tmpdir(), 'anycdn-plan-cdk-'));
  try {
    // cdk-nag runs unless `nag: false` (the baseline, already applied): plan is the last look
    // before a change is applied. The built-in validation runs where `cdk synth` runs it (CI,
    // CDK_VALIDATION=true): its wasm costs about 5 s of each synth and only warns.
    const app = new App({ stackTraces: false, analyticsReporting: false, builtinCloudFormationValidation: builtinValidation(), outdir, context: { ...context, 'aws:cdk:version-reporting': false } });
    // The alarm warning is synth's to say; plan's synth only diffs.
    const stacks = buildApp(app, t, plans, { nag: opts.nag ?? true, alarmWarnings: false });
    const assembly = app.synth();
    return new Map([...stacks.keys()].sort().map((name) => [name, assembly.getStackByName(name).template as Template]));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** `sinlb1Ready<12 hex of the host's version key><8 hex of CDK's path hash>` (lib/cloud/rollout.ts). */
const WAIT = /(Ready(?:Handle)?)[0-9a-f]{12}[0-9A-F]{8}/g;
const WAIT_ID = /Ready(?:Handle)?[0-9a-f]{12}[0-9A-F]{8}$/;

/** The template a reviewer reads: hashes, wait-condition versions and bootstrap blobs taken out. */
export function denoise(template: Template): Template {
  const text = JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<hash>').replace(WAIT, '$1');
  const t = JSON.parse(text) as Template;
  for (const r of Object.values<any>(t.Resources ?? {})) {
    if (r?.Type === 'AWS::EC2::Instance' && r.Properties?.UserData !== undefined) {
      const digest = createHash('sha256').update(JSON.stringify(r.Properties.UserData)).digest('hex').slice(0, 12);
      r.Properties.UserData = `<bootstrap ${digest}>`;
    }
  }
  return t;
}

/** A host instance's logical id: `<host>Instance`, its 12-hex replacement key and CDK's hash. */
const KEYED_INSTANCE = /^(.*Instance)[0-9a-f]{12}(?:[0-9A-F]{8})?$/;

/** EC2 instance properties whose change replaces the instance (CloudFormation's resource reference). */
const INSTANCE_REPLACING = new Set(['AvailabilityZone', 'ImageId', 'PrivateIpAddress', 'SubnetId', 'NetworkInterfaces', 'BlockDeviceMappings', 'KeyName', 'LaunchTemplate', 'Tenancy', 'SecurityGroups', 'CpuOptions', 'HibernationOptions', 'Ipv6Addresses', 'PlacementGroupName']);
/** ... and whose change stops and starts it. */
const INSTANCE_INTERRUPTING = new Set(['UserData', 'InstanceType', 'EbsOptimized', 'KernelId', 'RamdiskId']);

/**
 * `diff` is the raw diff; `shown` the denoised one, where a bundle's new S3 key is no new permission;
 * `renamed` the denoised one with renamed buckets' old names put to their new ones, so statements
 * that only follow a bucket to its new name are no broadening either (undefined: no bucket renamed).
 */
function impactsOf(diff: TemplateDiff, shown: TemplateDiff, renamed: TemplateDiff | undefined, renames: Map<string, string>): CloudImpact[] {
  const out: CloudImpact[] = [];
  if ((renamed ?? shown).permissionsBroadened) out.push({ class: 'cloud-broadening', resource: '(stack)', reason: 'IAM statements or security group rules are added (see the security changes below)' });
  else if (renamed && shown.permissionsBroadened) {
    out.push({ class: 'cloud-update', resource: '(stack)', reason: `IAM statements follow the renamed bucket (${[...renames].map(([a, b]) => `${a} -> ${b}`).join(', ')}): the same actions on the new bucket, no broadening` });
  }
  // A host's instance is named by its replacement key (lib/cloud/rollout.ts): a replacing change
  // adds the new instance and removes the old one under another id, so a pair is a replacement.
  const keyed = (type: 'added' | 'removed') => {
    const bases = new Set<string>();
    diff.resources.forEachDifference((id, c) => {
      const base = KEYED_INSTANCE.exec(id)?.[1];
      if (base && c.resourceType === 'AWS::EC2::Instance' && (type === 'added' ? c.isAddition : c.isRemoval)) bases.add(base);
    });
    return bases;
  };
  const added = keyed('added');
  const removed = keyed('removed');
  diff.resources.forEachDifference((id, c) => {
    // A fresh wait condition per host version: how the rollout is gated, not a change to review.
    if (WAIT_ID.test(id)) return;
    const base = KEYED_INSTANCE.exec(id)?.[1];
    const resource = `${base ?? id} ${c.resourceType ?? ''}`.trim();
    if (base && c.isAddition && removed.has(base)) {
      return out.push({ class: 'cloud-replacement', resource, reason: 'its replacement key changed (AMI, subnet, zone or root volume): a new instance, which must signal healthy before the old one is deleted' });
    }
    if (base && c.isRemoval && added.has(base)) return;
    if (c.isAddition) return out.push({ class: 'cloud-add', resource, reason: 'added' });
    if (c.isRemoval) return out.push({ class: 'cloud-remove', resource, reason: 'removed' });
    const props = Object.keys(c.propertyUpdates).sort();
    if (c.resourceType === 'AWS::EC2::Instance') {
      const replacing = props.filter((p) => INSTANCE_REPLACING.has(p));
      const interrupting = props.filter((p) => INSTANCE_INTERRUPTING.has(p));
      if (replacing.length) return out.push({ class: 'cloud-replacement', resource, reason: `${replacing.join(', ')} changed: the instance is replaced` });
      if (interrupting.length) return out.push({ class: 'cloud-interruption', resource, reason: `${interrupting.join(', ')} changed: the instance is stopped and started` });
    }
    if (c.resourceType === 'AWS::S3::Bucket' && c.changeImpact === ResourceImpact.WILL_REPLACE) {
      const [was, now] = [c.oldValue?.Properties?.BucketName, c.newValue?.Properties?.BucketName];
      const kept = c.oldValue?.UpdateReplacePolicy === 'Retain' ? `the old bucket${typeof was === 'string' ? ` ${was}` : ''} is retained with its objects (UpdateReplacePolicy: Retain)` : 'the old bucket is deleted';
      const name = typeof was === 'string' && typeof now === 'string' && was !== now ? `renamed ${was} -> ${now}` : `${props.join(', ')} changed`;
      return out.push({ class: 'cloud-replacement', resource, reason: `${name}: a new bucket, which starts empty; ${kept}. Copy the images over (aws s3 sync) before the caches miss on them` });
    }
    if (c.resourceType === 'AWS::S3::BucketPolicy' && c.changeImpact === ResourceImpact.WILL_REPLACE && renames.size > 0) {
      return out.push({ class: 'cloud-replacement', resource, reason: `it follows the renamed bucket (${[...renames].map(([a, b]) => `${a} -> ${b}`).join(', ')}): a new policy on the new bucket, and the retained bucket keeps none` });
    }
    if (c.changeImpact === ResourceImpact.WILL_REPLACE) return out.push({ class: 'cloud-replacement', resource, reason: `${props.join(', ') || 'its type'} changed: the resource is replaced` });
    return out.push({ class: 'cloud-update', resource, reason: `${props.join(', ') || 'metadata'} updated in place` });
  });
  return out.sort((a, b) => IMPACTS[b.class].rank - IMPACTS[a.class].rank);
}

function streamText(write: (s: NodeJS.WritableStream) => void): string {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  write(stream);
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** S3 buckets (by stack and logical id) whose BucketName changed: old name -> new name. */
function bucketRenames(before: Map<string, Template>, after: Map<string, Template>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [stack, b] of before) {
    for (const [id, r] of Object.entries<any>(b.Resources ?? {})) {
      const now = after.get(stack)?.Resources?.[id];
      const [was, is] = [r?.Properties?.BucketName, now?.Properties?.BucketName];
      if (r?.Type === 'AWS::S3::Bucket' && now?.Type === 'AWS::S3::Bucket' && typeof was === 'string' && typeof is === 'string' && was !== is) out.set(was, is);
    }
  }
  return out;
}

/** A template with every renamed bucket's old name (as a whole name, in ARNs too) put to its new one. */
function withRenames(t: Template, renames: Map<string, string>): Template {
  let text = JSON.stringify(t);
  for (const [was, is] of renames) text = text.replace(new RegExp(`(?<![a-z0-9.-])${was.replace(/[.]/g, '\\.')}(?![a-z0-9.-])`, 'g'), is);
  return JSON.parse(text) as Template;
}

/** Per changed stack: its impacts (replacements and broadenings first) and the denoised diff text. */
export function diffStacks(before: Map<string, Template>, after: Map<string, Template>): CloudChange[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const renames = bucketRenames(before, after);
  const out: CloudChange[] = [];
  for (const name of names) {
    const b = before.get(name) ?? {};
    const a = after.get(name) ?? {};
    const raw = fullDiff(b, a);
    if (raw.isEmpty) continue;
    const shown = fullDiff(denoise(b), denoise(a));
    const renamed = renames.size ? fullDiff(withRenames(denoise(b), renames), denoise(a)) : undefined;
    const impacts = impactsOf(raw, shown, renamed, renames);
    const text = [shown.isEmpty ? '' : streamText((s) => formatDifferences(s, shown)), shown.permissionsAnyChanges ? streamText((s) => formatSecurityChanges(s, shown)) : '']
      .filter(Boolean)
      .join('\n')
      .replace(/\n{3,}/g, '\n\n');
    if (impacts.length === 0) continue;
    out.push({ stack: name, impact: worst(impacts.map((i) => i.class)), impacts, diff: text });
  }
  return out;
}
