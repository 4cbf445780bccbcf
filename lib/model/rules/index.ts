// Cross-field and cross-site rules, each in its own file, run in one pass so every error is
// reported at once.
import type { Diagnostic } from '../errors.ts';
import type { Topology } from '../schema.ts';
import { acme } from './acme.ts';
import { anycast } from './anycast.ts';
import { addressesInSubnets, uniqueAddresses } from './addresses.ts';
import { awsNetwork } from './aws-network.ts';
import { awsPeers } from './aws-peers.ts';
import { bfd } from './bfd.ts';
import { bgp } from './bgp.ts';
import { communities } from './communities.ts';
import { birdNames } from './bird-names.ts';
import { dns } from './dns.ts';
import { drain } from './drain.ts';
import { haproxy } from './haproxy.ts';
import { images } from './images.ts';
import { monitoring } from './monitoring.ts';
import { originAsn } from './origin-asn.ts';
import { origins } from './origins.ts';
import { uniqueNames } from './names.ts';
import { parentZone } from './parent-zone.ts';
import { platform } from './platform.ts';
import { prefixes } from './prefixes.ts';
import { published } from './published.ts';
import { ring } from './ring.ts';
import { roles } from './roles.ts';
import { stackNames } from './stack-names.ts';
import { subnetEdges } from './subnet-edges.ts';
import { collect, type Rule } from './types.ts';
import { vrrp } from './vrrp.ts';

export const RULES: Rule[] = [prefixes, anycast, addressesInSubnets, subnetEdges, published, uniqueAddresses, uniqueNames, roles, originAsn, bgp, communities, bfd, birdNames, vrrp, platform, awsNetwork, awsPeers, stackNames, dns, parentZone, haproxy, ring, images, monitoring, acme, drain, origins];

export function runRules(t: Topology): Diagnostic[] {
  return collect(t, RULES);
}
