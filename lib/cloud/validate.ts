// What an aws site needs beyond the model's own rules, checked before any cloud resource is built:
// every problem reported at once, at its place in the site file.
import type { Diagnostic } from '../model/errors.ts';
import type { Topology } from '../model/schema.ts';
import { isAwsReserved, MAX_PREFIX, MIN_PREFIX, networkShape, subnetOf } from './network.ts';
import { GLOBAL, ORIGIN } from './stacks.ts';

export function cloudDiagnostics(t: Topology): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (siteId: string, path: (string | number)[], message: string) => out.push({ ...t.sources.position(siteId, path), message });
  for (const site of t.sites) {
    // Stacks are named by site id next to origin and global (anycdn-<id>, pulumi -s <id>).
    if (site.id === ORIGIN || site.id === GLOBAL) {
      report(site.id, ['id'], `id: ${site.id} is the name of a stack of its own (anycdn-${site.id}); pick another site id`);
    }
  }
  for (const site of t.sites) {
    if (site.platform !== 'aws') continue;
    if (site.region && !site.availabilityZones) {
      const example = ['a', 'b', 'c'].map((z) => `${site.region}${z}`).join(', ');
      report(site.id, ['region'], `region: aws site ${site.id} has no availability zones pinned for ${site.region}; add the line availabilityZones: [${example}] to ${t.sources.fileOf(site.id)} (the zone names your account has there)`);
    }
    let ipv4 = 0;
    for (const [name, cidr] of Object.entries(site.subnets)) {
      if (cidr.includes(':')) {
        report(site.id, ['subnets', name], `subnets.${name}: aws site ${site.id} takes IPv4 subnets only (the VPC's IPv6 prefix is assigned by AWS); remove ${cidr}`);
        continue;
      }
      ipv4++;
      const len = Number(cidr.split('/')[1]);
      if (len < MIN_PREFIX || len > MAX_PREFIX) {
        report(site.id, ['subnets', name], `subnets.${name}: ${cidr} must be a /${MIN_PREFIX} to /${MAX_PREFIX} for an EC2 subnet`);
      }
    }
    if (ipv4 === 0) continue; // nothing more to check without a subnet (the model rules report it)
    const network = networkShape(site);
    const vpcLen = Number(network.vpcCidr.split('/')[1]);
    if (vpcLen < MIN_PREFIX) {
      report(site.id, ['subnets'], `subnets: the smallest prefix covering them is ${network.vpcCidr}, wider than a VPC can be (/${MIN_PREFIX}); keep the site's subnets inside one /${MIN_PREFIX}`);
    }
    const stats = site.haproxy.statsAddress;
    if (!stats.startsWith('127.')) {
      report(site.id, ['haproxy', 'statsAddress'], `haproxy.statsAddress: ${stats} is unreachable on aws site ${site.id}: no security group admits the stats port; keep 127.0.0.1 and reach it with SSM port forwarding (AWS-StartPortForwardingSession)`);
    }
    if (site.bgp.peers.length > 0) {
      report(site.id, ['bgp', 'peers'], `bgp.peers: aws site ${site.id} is announced by Global Accelerator (stack anycdn-global); remove its BGP peers`);
    }
    const where = (address: string) => subnetOf(network, address);
    const vipSubnet = where(site.vip.address);
    if (vipSubnet && isAwsReserved(vipSubnet.cidr, site.vip.address)) {
      report(site.id, ['vip', 'address'], `vip.address: ${site.vip.address} is reserved by AWS in ${vipSubnet.cidr} (the first four and the last address); pick another`);
    }
    for (const host of site.hosts) {
      const subnet = where(host.address);
      if (subnet && isAwsReserved(subnet.cidr, host.address)) {
        report(site.id, ['hosts'], `hosts: ${host.name} address ${host.address} is reserved by AWS in ${subnet.cidr} (the first four and the last address); pick another`);
      }
      if (host.address6 !== undefined) {
        report(site.id, ['hosts'], `hosts: ${host.name} has address6 ${host.address6}, but aws site ${site.id} has no IPv6 subnet; remove it`);
      }
      if (host.roles.includes('lb') && vipSubnet && subnet && subnet.name !== vipSubnet.name) {
        report(site.id, ['hosts'], `hosts: lb host ${host.name} is in subnets.${subnet.name}, but the VIP is in subnets.${vipSubnet.name}; EC2 moves a private address only within one subnet, so put the lb pair in the VIP's subnet`);
      }
    }
  }
  return out;
}
