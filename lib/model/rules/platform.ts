// What each platform needs: aws sites a region and a pre-allocated Elastic IP for the VIP;
// metal sites neither.
import type { Rule } from './types.ts';

export const platform: Rule = (t, report) => {
  for (const site of t.sites) {
    if (site.platform === 'aws') {
      if (!site.region) report(site.id, ['platform'], `region: aws site ${site.id} needs region, such as eu-west-1`);
      if (!site.vip.elasticIp) report(site.id, ['vip'], `vip.elasticIp: aws site ${site.id} needs elasticIp {address, allocationId}: the address published in DNS`);
    } else {
      if (site.vip.elasticIp) report(site.id, ['vip', 'elasticIp'], `vip.elasticIp: metal site ${site.id} publishes vip.address itself; remove elasticIp`);
      if (site.region) report(site.id, ['region'], `region: only aws sites take a region; remove it from metal site ${site.id}`);
    }
  }
};
