// Small inline topologies for renderer unit tests: one global file and one site, in YAML, so a
// test reads like the model an operator writes.
import { loadTexts } from '../../lib/model/load.ts';
import type { Host, Site, Topology } from '../../lib/model/schema.ts';

export const INLINE_CDN = `imageHost: img.example.net
dns:
  zone: example.net
  nameservers: [ns1.example.net]
  hostmaster: hostmaster.example.net
anycast:
  prefixes:
    - name: a
      ipv4: { prefix: 203.0.113.0/24, address: 203.0.113.53 }
bgp:
  originAsn: 64496
origin:
  http:
    url: http://origin.example.net
`;

/** INLINE_CDN with an IPv6 prefix and service address next to the IPv4 ones. */
export const INLINE_CDN_V6 = INLINE_CDN.replace(
  '      ipv4: { prefix: 203.0.113.0/24, address: 203.0.113.53 }\n',
  '      ipv4: { prefix: 203.0.113.0/24, address: 203.0.113.53 }\n      ipv6: { prefix: "2001:db8:53::/48", address: "2001:db8:53::53" }\n',
);

/** A metal site `tst`: lb pair (tst-lb1 also dns), two nginx caches. `extra` is appended to the site file. */
export function inlineSite(opts: { extra?: string; hosts?: string; platform?: 'metal' | 'aws' } = {}): string {
  const aws = opts.platform === 'aws';
  return [
    'id: tst',
    'location: Test',
    `platform: ${aws ? 'aws' : 'metal'}`,
    ...(aws ? ['region: eu-west-1'] : []),
    '# AS: bgp.originAsn in cdn.yaml',
    'subnets:',
    '  lan: 192.0.2.0/26',
    'vip:',
    '  address: 192.0.2.10',
    '  virtualRouterId: 7',
    ...(aws ? ['  elasticIp:', '    address: 198.51.100.7', '    allocationId: eipalloc-0123abcd'] : []),
    ...(aws ? [] : ['bgp:', '  peers:', '    - name: transit1', '      address: 192.0.2.1', '      asn: 64501']),
    'hosts:',
    '  - name: tst-lb2',
    '    roles: [lb]',
    '    address: 192.0.2.12',
    '  - name: tst-lb1',
    '    roles: [lb, dns]',
    '    address: 192.0.2.11',
    opts.hosts ??
      ['  - name: tst-cache1', '    roles: [cache]', '    cacheEngine: nginx', '    address: 192.0.2.21', '  - name: tst-cache2', '    roles: [cache]', '    cacheEngine: nginx', '    address: 192.0.2.22'].join('\n'),
    opts.extra ?? '',
  ].join('\n');
}

export function loadInline(site: string, cdn: string = INLINE_CDN): Topology {
  return loadTexts([
    { file: 'sites/cdn.yaml', text: cdn, global: true },
    { file: 'sites/tst.yaml', text: site, global: false },
  ]);
}

export function siteAndHost(t: Topology, host: string): { site: Site; host: Host } {
  const site = t.sites[0]!;
  const h = site.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no host ${host}`);
  return { site, host: h };
}

/** The paragraph (lines up to the next blank line) that starts with `head`. */
export function section(content: string, head: string): string {
  const paragraphs = content.split('\n\n');
  const found = paragraphs.find((p) => p.split('\n').some((l) => l === head));
  if (!found) throw new Error(`no section ${JSON.stringify(head)} in:\n${content}`);
  const lines = found.split('\n');
  return lines.slice(lines.indexOf(head)).join('\n').replace(/\n+$/, '');
}
