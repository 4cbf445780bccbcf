// The one cloud check that is not a model rule (those live in lib/model/rules/, so every command
// sees them): pinned availability zones. Only the cloud adapters need them (cdk synth builds
// subnets offline without a context lookup, and the Pulumi program takes the same zones);
// `anycdn render` and `validate` never use them, so as a model rule it would refuse a site that
// those render fine.
import type { Diagnostic } from '../model/errors.ts';
import { overlaps, parsePrefix, type Prefix } from '../model/net.ts';
import type { Topology } from '../model/schema.ts';
import { EGRESS_CIDR } from './network.ts';

export function cloudDiagnostics(t: Topology): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (siteId: string, path: (string | number)[], message: string) => out.push({ ...t.sources.position(siteId, path), message });
  for (const site of t.sites) {
    if (site.platform !== 'aws') continue;
    if (site.region && !site.availabilityZones) {
      const example = ['a', 'b', 'c'].map((z) => `${site.region}${z}`).join(', ');
      report(site.id, ['region'], `region: aws site ${site.id} has no availability zones pinned for ${site.region}; add the line availabilityZones: [${example}] to ${t.sources.fileOf(site.id)} (the zone names your account has there)`);
    }
    // The egress block is the VPC's second CIDR (lib/cloud/network.ts): no model subnet may overlap it.
    const egress = parsePrefix(EGRESS_CIDR) as Prefix;
    for (const [name, cidr] of Object.entries(site.subnets)) {
      const p = parsePrefix(cidr);
      if (typeof p !== 'string' && overlaps(p, egress)) {
        report(site.id, ['subnets', name], `subnets.${name}: ${cidr} overlaps ${EGRESS_CIDR}, the block an aws site's egress subnets and NAT gateway use; pick a prefix outside it`);
      }
    }
  }
  return out;
}
