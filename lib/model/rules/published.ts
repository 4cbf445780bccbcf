// What the zone publishes for the image host (each site's VIP, or its Elastic IP on aws) is an
// address the internet can reach: never loopback, link-local or multicast, and private only in a
// deliberately internal CDN (internal: true), where the zone is answered inside the network.
import { spaceOfAddress } from '../address-space.ts';
import { publishedVip, publishedVip6 } from '../facts.ts';
import { pathString } from '../errors.ts';
import type { Rule } from './types.ts';

export const published: Rule = (t, report) => {
  for (const site of t.sites) {
    // An aws site without its Elastic IP is reported by the platform rule, not as a private VIP.
    if (site.platform === 'aws' && !site.vip.elasticIp) continue;
    const v4: (string | number)[] = site.vip.elasticIp ? ['vip', 'elasticIp', 'address'] : ['vip', 'address'];
    const checks: [path: (string | number)[], address: string | undefined][] = [
      [v4, publishedVip(site)],
      [['vip', 'address6'], publishedVip6(site)],
    ];
    for (const [path, address] of checks) {
      const space = address === undefined ? undefined : spaceOfAddress(address);
      if (!space) continue;
      const where = `${t.cdn.dns.zone} publishes it as ${t.cdn.imageHost}`;
      if (space.kind === 'special') {
        report(site.id, path, `${pathString(path)}: ${address} is in ${space.range}, ${space.name}, and ${where}, where no client can reach it; use a public address`);
      } else if (!t.cdn.internal) {
        report(
          site.id,
          path,
          `${pathString(path)}: ${address} is in ${space.range}, ${space.name}, and ${where}, where the internet cannot reach it; use a public address, or set internal: true in cdn.yaml for a CDN reached only inside your own network`,
        );
      }
    }
  }
};
