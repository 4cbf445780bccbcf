// The CDK app from a topology: anycdn-origin (S3 origin), anycdn-global (when any site is on aws),
// and anycdn-<site> per site. bin/cdk.ts and the tests both build it here, with the same context.
import type { App, Stack } from 'aws-cdk-lib';
import type { Topology } from '../model/schema.ts';
import { renderPlans, type HostPlan } from '../render/index.ts';
import { cloudShape, originBuckets } from '../cloud/shape.ts';
import { GLOBAL, GLOBAL_REGION, METAL_REGION, ORIGIN, ORIGIN_REPLICA } from '../cloud/stacks.ts';
import { AwsSiteStack } from './aws-site-stack.ts';
import { account, CONTEXT, contextFlag, contextString, debianAmi } from './context.ts';
import { GlobalStack } from './global-stack.ts';
import { MetalSiteStack } from './metal-site-stack.ts';
import { enableNag } from './nag.ts';
import { OriginStack } from './origin-stack.ts';

/** CDK names each stack of lib/cloud/stacks.ts anycdn-<name>. */
export const stackName = (name: string) => `anycdn-${name}`;
export const ORIGIN_STACK = stackName(ORIGIN);
export const ORIGIN_REPLICA_STACK = stackName(ORIGIN_REPLICA);
export const GLOBAL_STACK = stackName(GLOBAL);
export const siteStackName = (siteId: string) => stackName(siteId);

export interface BuildOptions {
  /** Warn, per metal site, that a VIP alarm without anycdn:alarm-topic-arn pages no one (synth does; plan's diffing synth does not). */
  alarmWarnings?: boolean;
  /** Run cdk-nag's AwsSolutions checks at synth (default true; bin/cdk.ts asks nagChecks()). */
  nag?: boolean;
}

/** Adds every stack to `app`, and cdk-nag unless `nag: false`. `plans` defaults to rendering the sites' hosts. */
export function buildApp(app: App, t: Topology, plans: HostPlan[] = renderPlans(t), opts: BuildOptions = {}): Map<string, Stack> {
  const shape = cloudShape(t, plans);
  const accountId = account(app);
  const stacks = new Map<string, Stack>();
  const add = (s: Stack) => stacks.set(s.stackName, s);

  if (shape.origin) {
    const accessLogs = contextFlag(app, CONTEXT.originAccessLogs);
    const replica = shape.origin.replica;
    const origin = new OriginStack(app, ORIGIN_STACK, {
      env: { account: accountId, region: shape.origin.region },
      description: `anycdn: origin bucket ${shape.origin.bucket}`,
      bucketName: shape.origin.bucket,
      accessLogs,
      ...(replica ? { replicateTo: replica.bucket } : {}),
    });
    add(origin);
    if (replica) {
      // A stack of its own in the replica's region (a stack has one region); deployed first.
      const replicaStack = new OriginStack(app, ORIGIN_REPLICA_STACK, {
        env: { account: accountId, region: replica.region },
        description: `anycdn: replica ${replica.bucket} of origin bucket ${shape.origin.bucket}`,
        bucketName: replica.bucket,
        accessLogs,
      });
      add(replicaStack);
      origin.addDependency(replicaStack, 'S3 replication needs the versioned replica bucket first');
    }
  }

  const awsStacks = shape.awsSites.map((s) => {
    // cloudDiagnostics (in cloudShape) reports an aws site without pinned zones.
    if (!s.site.availabilityZones) throw new Error(`internal: aws site ${s.site.id} has no availabilityZones`);
    const stack = new AwsSiteStack(app, siteStackName(s.site.id), {
      env: { account: accountId, region: s.region },
      crossRegionReferences: true,
      description: `anycdn: aws site ${s.site.id} (${s.site.location})`,
      shape: s,
      zones: s.site.availabilityZones,
      ami: debianAmi(app, s.region),
      ...(shape.origin ? { originBuckets: originBuckets(shape.origin) } : {}),
    });
    add(stack);
    return [s.site.id, stack] as const;
  });

  const alarmTopicArn = app.node.tryGetContext(CONTEXT.alarmTopicArn) === undefined ? undefined : contextString(app, CONTEXT.alarmTopicArn, '');
  for (const s of shape.metalSites) {
    add(new MetalSiteStack(app, siteStackName(s.site.id), {
      env: { account: accountId, region: METAL_REGION },
      description: `anycdn: metal site ${s.site.id} (${s.site.location}): VIP health check and host bundles`,
      shape: s,
      ...(alarmTopicArn ? { alarmTopicArn } : {}),
      warnUnpaged: opts.alarmWarnings ?? true,
    }));
  }

  if (shape.accelerator) {
    add(new GlobalStack(app, GLOBAL_STACK, {
      env: { account: accountId, region: GLOBAL_REGION },
      crossRegionReferences: true,
      description: 'anycdn: Global Accelerator announcing the anycast DNS for the aws sites',
      shape: shape.accelerator,
      siteStacks: new Map(awsStacks),
      byoip: contextFlag(app, CONTEXT.globalByoip),
    }));
  }

  if (opts.nag ?? true) enableNag(app);
  return stacks;
}
