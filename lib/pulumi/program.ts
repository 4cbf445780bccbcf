// The Pulumi program: one stack of lib/cloud/stacks.ts per Pulumi stack, picked by name
// (`pulumi up -s origin | origin-replica | global | <site>`), each mapped from the same cloud shape the CDK app
// maps. Nothing here renders config or computes a rule, a port, a policy or a bundle.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { BYOIP_LIMIT, cloudShape } from '../cloud/shape.ts';
import { stackRefs } from '../cloud/stacks.ts';
import type { Topology } from '../model/schema.ts';
import { renderPlans, type HostPlan } from '../render/index.ts';
import { awsSite } from './aws-site.ts';
import { ConfigError, CONFIG, missingAmi, type Settings } from './config.ts';
import { globalAccelerator } from './global.ts';
import { metalSite } from './metal-site.ts';
import { origin } from './origin.ts';

/** Builds the resources of `settings.stack` and returns its outputs. */
export function anycdnStack(t: Topology, settings: Settings, plans: HostPlan[] = renderPlans(t)): Record<string, unknown> {
  const shape = cloudShape(t, plans);
  const refs = stackRefs(shape);
  const ref = refs.find((r) => r.name === settings.stack);
  if (!ref) {
    throw new ConfigError([`config ${CONFIG.site}: no stack ${JSON.stringify(settings.stack)} in this model; name the stack (or set ${CONFIG.site} to) one of ${refs.map((r) => r.name).join(', ')}`]);
  }
  if (settings.region !== ref.region) {
    throw new ConfigError([`config ${CONFIG.region}: stack ${ref.name} lives in ${ref.region}, got ${settings.region}; run pulumi config set ${CONFIG.region} ${ref.region}`]);
  }
  const tag: Record<string, string> = ref.kind === 'origin' || ref.kind === 'origin-replica' || ref.kind === 'global' ? { 'anycdn:part': ref.name } : { 'anycdn:site': ref.name };
  // The provider is bound to the account and region: a run with other credentials fails early.
  const provider = new aws.Provider('aws', { region: settings.region as aws.Region, allowedAccountIds: [settings.account], defaultTags: { tags: tag } });
  const partition = aws.getPartitionOutput({}, { provider }).partition;
  const common = { account: settings.account, partition, provider };

  switch (ref.kind) {
    case 'origin':
      return origin({
        ...common,
        bucketName: shape.origin!.bucket,
        region: ref.region,
        accessLogs: settings.originAccessLogs,
        ...(shape.origin!.replica ? { replicateTo: shape.origin!.replica.bucket } : {}),
      });
    case 'origin-replica':
      return origin({ ...common, bucketName: shape.origin!.replica!.bucket, region: ref.region, accessLogs: settings.originAccessLogs, resourceName: 'origin-replica' });
    case 'global':
      if (settings.globalByoip && shape.accelerator!.byoipAddresses.length > BYOIP_LIMIT) {
        throw new ConfigError([`config ${CONFIG.globalByoip}: Global Accelerator takes at most ${BYOIP_LIMIT} BYOIP addresses, the model has ${shape.accelerator!.byoipAddresses.length} anycast prefixes; run pulumi config set ${CONFIG.globalByoip} false or announce fewer prefixes`]);
      }
      return globalAccelerator({
        shape: shape.accelerator!,
        byoip: settings.globalByoip,
        siteStack: (siteId) => `${pulumi.getOrganization()}/${pulumi.getProject()}/${siteId}`,
        provider,
      });
    case 'aws-site': {
      const site = shape.awsSites.find((s) => s.site.id === ref.name)!;
      if (!settings.debianAmi) throw new ConfigError([missingAmi(ref.region)]);
      // The model's pinned zones, as the CDK app takes them (cloudShape refuses an aws site without).
      const zones = site.site.availabilityZones;
      if (!zones) throw new Error(`internal: aws site ${site.site.id} has no availabilityZones`);
      return awsSite({ ...common, shape: site, zones, ami: settings.debianAmi });
    }
    case 'metal-site': {
      const site = shape.metalSites.find((s) => s.site.id === ref.name)!;
      return metalSite({ ...common, shape: site, region: ref.region, ...(settings.alarmTopicArn ? { alarmTopicArn: settings.alarmTopicArn } : {}) });
    }
  }
}
