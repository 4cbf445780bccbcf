// haproxy settings that only make sense against the rest of the model: the stats page stays off
// the public addresses (on aws sites on loopback, since no security group admits its port), and
// the shield site keeps serving plain HTTP to the other sites' caches.
import { anycastFamilies } from '../facts.ts';
import type { Rule } from './types.ts';

export const haproxy: Rule = (t, report) => {
  const anycast = anycastFamilies(t).map((f) => f.address);
  for (const site of t.sites) {
    const stats = site.haproxy.statsAddress;
    const publicAddresses: [string, string][] = [
      [site.vip.address, 'the image VIP'],
      ...(site.vip.elasticIp ? [[site.vip.elasticIp.address, 'the Elastic IP'] as [string, string]] : []),
      ...anycast.map((a): [string, string] => [a, 'the anycast DNS address']),
    ];
    if (stats === '0.0.0.0') {
      report(site.id, ['haproxy', 'statsAddress'], `haproxy.statsAddress: 0.0.0.0 listens on every address, the VIP included; use 127.0.0.1 or a management address`);
    }
    const clash = publicAddresses.find(([a]) => a === stats);
    if (clash) {
      report(site.id, ['haproxy', 'statsAddress'], `haproxy.statsAddress: ${stats} is ${clash[1]}; the stats page must never be public, use 127.0.0.1 or a management address`);
    } else if (site.platform === 'aws' && stats !== '0.0.0.0' && !stats.startsWith('127.')) {
      report(site.id, ['haproxy', 'statsAddress'], `haproxy.statsAddress: ${stats} is unreachable on aws site ${site.id}: no security group admits the stats port; keep 127.0.0.1 and reach it with SSM port forwarding (AWS-StartPortForwardingSession)`);
    }
    // certPath is a normal path by the schema (paths.ts).
    const https = site.haproxy.https;
    if (https?.redirectHttp && t.cdn.shield === site.id) {
      report(site.id, ['haproxy', 'https', 'redirectHttp'], `haproxy.https.redirectHttp: ${site.id} is the origin shield, and the other sites' caches fetch from it over HTTP; set redirectHttp: false`);
    }
  }
};
