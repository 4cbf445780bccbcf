// What EC2 can build of an aws site's network: IPv4 subnets of /16 to /28 inside one VPC of at
// most a /16 (AWS assigns a VPC's IPv6 prefix itself, so no IPv6 subnet or host address), no
// address AWS keeps for itself, and the lb pair in the VIP's subnet (EC2 moves a private address
// only within one subnet).
import { hasRole } from '../facts.ts';
import { contains, covering, ipv4Offset, parsePrefix, type Prefix } from '../net.ts';
import type { Site } from '../schema.ts';
import type { Report, Rule } from './types.ts';

/** EC2 takes VPC and subnet prefixes from /16 to /28. */
export const EC2_MIN_PREFIX = 16;
export const EC2_MAX_PREFIX = 28;

/** AWS keeps the first four addresses and the last one of every subnet for itself. */
export function isAwsReserved(subnet: Prefix, address: string): boolean {
  const { offset, size } = ipv4Offset(subnet, address);
  return offset < 4 || offset === size - 1;
}

export const awsNetwork: Rule = (t, report) => {
  for (const site of t.sites.filter((s) => s.platform === 'aws')) {
    const subnets: { name: string; prefix: Prefix }[] = [];
    for (const [name, cidr] of Object.entries(site.subnets)) {
      const prefix = parsePrefix(cidr);
      if (typeof prefix === 'string') continue; // reported by the prefixes rule
      if (prefix.family === 6) {
        report(site.id, ['subnets', name], `subnets.${name}: aws site ${site.id} takes IPv4 subnets only (the VPC's IPv6 prefix is assigned by AWS); remove ${cidr}`);
        continue;
      }
      if (prefix.length < EC2_MIN_PREFIX || prefix.length > EC2_MAX_PREFIX) {
        report(site.id, ['subnets', name], `subnets.${name}: ${cidr} must be a /${EC2_MIN_PREFIX} to /${EC2_MAX_PREFIX} for an EC2 subnet`);
      }
      subnets.push({ name, prefix });
    }
    if (site.vip.address6 !== undefined) {
      report(site.id, ['vip', 'address6'], `vip.address6: ${site.vip.address6} is IPv6, but aws site ${site.id} has no IPv6 subnet (and no Elastic IP is IPv6); remove it`);
    }
    site.hosts.forEach((h, i) => {
      if (h.address6 !== undefined) {
        report(site.id, ['hosts', i, 'address6'], `hosts[${i}].address6: ${h.address6} (${h.name}) is IPv6, but aws site ${site.id} has no IPv6 subnet; remove it`);
      }
    });
    if (subnets.length === 0) continue; // nothing more to check without an IPv4 subnet
    const vpc = covering(subnets.map((s) => s.prefix));
    if (vpc.length < EC2_MIN_PREFIX) {
      report(site.id, ['subnets'], `subnets: the smallest prefix covering them is ${vpc.text}, wider than a VPC can be (/${EC2_MIN_PREFIX}); keep the site's subnets inside one /${EC2_MIN_PREFIX}`);
    }
    reservedAndVipSubnet(site, subnets, report);
  }
};

function reservedAndVipSubnet(site: Site, subnets: { name: string; prefix: Prefix }[], report: Report): void {
  const where = (address: string) => subnets.find((s) => contains(s.prefix, address));
  const reserved = (s: { prefix: Prefix }, address: string, who = '') => `${address}${who} is reserved by AWS in ${s.prefix.text} (the first four and the last address); pick another`;
  const vipSubnet = where(site.vip.address);
  if (vipSubnet && isAwsReserved(vipSubnet.prefix, site.vip.address)) report(site.id, ['vip', 'address'], `vip.address: ${reserved(vipSubnet, site.vip.address)}`);
  site.hosts.forEach((h, i) => {
    const subnet = where(h.address);
    if (subnet && isAwsReserved(subnet.prefix, h.address)) report(site.id, ['hosts', i, 'address'], `hosts[${i}].address: ${reserved(subnet, h.address, ` (${h.name})`)}`);
    if (hasRole(h, 'lb') && vipSubnet && subnet && subnet.name !== vipSubnet.name) {
      report(site.id, ['hosts', i, 'address'], `hosts[${i}].address: lb host ${h.name} is in subnets.${subnet.name}, but the VIP is in subnets.${vipSubnet.name}; EC2 moves a private address only within one subnet, so put the lb pair in the VIP's subnet`);
    }
  });
}
