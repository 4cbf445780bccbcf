// What each platform needs: aws sites a region, a pre-allocated Elastic IP for the VIP, and
// availability zones of that region (if given); metal sites none of them.
import type { Rule } from './types.ts';

export const platform: Rule = (t, report) => {
  for (const site of t.sites) {
    if (site.platform === 'aws') {
      if (!site.region) report(site.id, ['platform'], `region: aws site ${site.id} needs region, such as eu-west-1`);
      if (!site.vip.elasticIp) report(site.id, ['vip'], `vip.elasticIp: aws site ${site.id} needs elasticIp {address, allocationId}: the address published in DNS`);
      // Missing zones matter only to cdk synth, which reports them (lib/cloud/validate.ts).
      const seen = new Set<string>();
      site.availabilityZones?.forEach((zone, i) => {
        if (site.region && !(zone.startsWith(site.region) && zone.length === site.region.length + 1)) {
          report(site.id, ['availabilityZones', i], `availabilityZones[${i}]: ${zone} is not in region ${site.region}; use a zone such as ${site.region}${zone.slice(-1)}`);
        } else if (seen.has(zone)) {
          report(site.id, ['availabilityZones', i], `availabilityZones[${i}]: ${zone} is listed twice; remove one`);
        }
        seen.add(zone);
      });
    } else {
      if (site.vip.elasticIp) report(site.id, ['vip', 'elasticIp'], `vip.elasticIp: metal site ${site.id} publishes vip.address itself; remove elasticIp`);
      if (site.region) report(site.id, ['region'], `region: only aws sites take a region; remove it from metal site ${site.id}`);
      if (site.availabilityZones) {
        report(site.id, ['availabilityZones'], `availabilityZones: only aws sites take availability zones; remove them from metal site ${site.id}`);
      }
    }
  }
};
