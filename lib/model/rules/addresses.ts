// Host addresses and the VIP lie inside a subnet of their site; directly connected peers too.
// Every address (hosts, VIPs, peers, Elastic IPs) is used once across all sites.
import { canonical, contains, familyOf, parsePrefix, type Prefix } from '../net.ts';
import type { Site } from '../schema.ts';
import { pathString } from '../errors.ts';
import type { Rule } from './types.ts';

/** The site's subnets, or undefined when one of them is invalid (the prefixes rule reports it). */
function subnetsOf(site: Site): Prefix[] | undefined {
  const parsed = Object.values(site.subnets).map(parsePrefix);
  return parsed.every((p): p is Prefix => typeof p !== 'string') ? parsed : undefined;
}

export const addressesInSubnets: Rule = (t, report) => {
  for (const site of t.sites) {
    const subnets = subnetsOf(site);
    // With a subnet missing, every address on it would be reported too: one error is enough.
    if (!subnets) continue;
    const inside = (a: string) => subnets.some((p) => contains(p, a));
    const where = (a: string) => {
      const fam = subnets.filter((p) => p.family === familyOf(a)).map((p) => p.text);
      return fam.length > 0 ? `one of ${fam.join(', ')}` : `an IPv${familyOf(a)} subnet (add one under subnets)`;
    };
    if (!inside(site.vip.address)) report(site.id, ['vip', 'address'], `vip.address: ${site.vip.address} is outside the site subnets; pick an address in ${where(site.vip.address)}`);
    const vip6 = site.vip.address6;
    if (vip6 !== undefined && site.platform !== 'aws' && !inside(vip6)) {
      report(site.id, ['vip', 'address6'], `vip.address6: ${vip6} is outside the site subnets; pick an address in ${where(vip6)}`);
    }
    site.hosts.forEach((h, i) => {
      if (!inside(h.address)) report(site.id, ['hosts', i, 'address'], `hosts[${i}].address: ${h.address} (${h.name}) is outside the site subnets; pick an address in ${where(h.address)}`);
      // aws sites take no address6 at all; rules/aws-network.ts says so instead of "add a subnet".
      if (h.address6 !== undefined && site.platform !== 'aws' && !inside(h.address6)) {
        report(site.id, ['hosts', i, 'address6'], `hosts[${i}].address6: ${h.address6} (${h.name}) is outside the site subnets; pick an address in ${where(h.address6)}`);
      }
    });
    site.bgp.peers.forEach((p, i) => {
      if (p.multihop === undefined && !inside(p.address)) {
        report(site.id, ['bgp', 'peers', i, 'address'], `bgp.peers[${i}].address: ${p.address} is not on a site subnet; put it in ${where(p.address)} or set multihop`);
      }
    });
  }
};

export const uniqueAddresses: Rule = (t, report) => {
  const owners = new Map<string, string>();
  const claim = (siteId: string, path: (string | number)[], address: string, what: string) => {
    const key = canonical(address);
    const owner = owners.get(key);
    if (owner) report(siteId, path, `${pathString(path)}: ${address} is already used by ${owner}; every address must be unique`);
    else owners.set(key, `${what} in site ${siteId}`);
  };
  for (const site of t.sites) {
    claim(site.id, ['vip', 'address'], site.vip.address, 'the image VIP');
    if (site.vip.address6) claim(site.id, ['vip', 'address6'], site.vip.address6, 'the IPv6 image VIP');
    if (site.vip.elasticIp) claim(site.id, ['vip', 'elasticIp', 'address'], site.vip.elasticIp.address, 'the Elastic IP');
    site.hosts.forEach((h, i) => {
      claim(site.id, ['hosts', i, 'address'], h.address, `host ${h.name}`);
      if (h.address6) claim(site.id, ['hosts', i, 'address6'], h.address6, `host ${h.name}`);
    });
    site.bgp.peers.forEach((p, i) => claim(site.id, ['bgp', 'peers', i, 'address'], p.address, `peer ${p.name}`));
  }
};
