// VRRP router ids are unique per segment (the subnet holding the VIP), and the VIP's interface
// exists on both lb hosts under the same name.
import { hasRole } from '../facts.ts';
import { contains, parsePrefix, type Prefix } from '../net.ts';
import type { Rule } from './types.ts';

export const vrrp: Rule = (t, report) => {
  const segments = new Map<string, { vrid: number; siteId: string }[]>();
  for (const site of t.sites) {
    const segment = Object.values(site.subnets)
      .map(parsePrefix)
      .find((p): p is Prefix => typeof p !== 'string' && contains(p, site.vip.address));
    if (!segment) continue; // reported by addressesInSubnets
    const list = segments.get(segment.text) ?? [];
    const clash = list.find((e) => e.vrid === site.vip.virtualRouterId);
    if (clash) {
      report(site.id, ['vip', 'virtualRouterId'], `vip.virtualRouterId: ${site.vip.virtualRouterId} is already used on segment ${segment.text} by site ${clash.siteId}; pick another id (1-255)`);
    }
    list.push({ vrid: site.vip.virtualRouterId, siteId: site.id });
    segments.set(segment.text, list);
    if (site.vip.advertIntervalMs % 10 !== 0) {
      report(site.id, ['vip', 'advertIntervalMs'], `vip.advertIntervalMs: ${site.vip.advertIntervalMs} must be a multiple of 10 (VRRPv3 counts centiseconds)`);
    }
    const lbs = site.hosts.map((h, i) => ({ h, i })).filter(({ h }) => hasRole(h, 'lb'));
    const first = lbs[0];
    for (const { h, i } of lbs.slice(1)) {
      if (first && h.interface !== first.h.interface) {
        report(site.id, ['hosts', i, 'interface'], `hosts[${i}].interface: ${h.interface} differs from ${first.h.name}'s ${first.h.interface}; the lb pair shares one VRRP segment`);
      }
    }
  }
};
