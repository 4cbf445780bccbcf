// The network of an aws site, from the model's subnets: one VPC whose CIDR covers every site
// subnet, one service subnet per model subnet (exact prefixes, so host addresses stay valid), each
// in an availability zone picked by its position in name order. No instance has a public address:
// the service subnets route to the internet gateway only so that the Elastic IP on the VIP works,
// and every host reaches the internet through a second interface in an egress subnet of its zone,
// routed to one NAT gateway (docs/deploy-cdk.md "Network and egress").
import ipaddr from 'ipaddr.js';
import { contains, covering, parsePrefix, type Prefix } from '../model/net.ts';
import type { Site } from '../model/schema.ts';

export interface SubnetShape {
  /** Model key (subnets.<name>). */
  name: string;
  cidr: string;
  /** Index into the region's pinned availability zones (wraps around). */
  azIndex: number;
}

export interface NetworkShape {
  vpcCidr: string;
  subnets: SubnetShape[];
  /**
   * Explicit subnet CIDR reservations, one /32 per model address in a service subnet (hosts and
   * the VIP). EC2 never picks a reserved address as an instance's own primary address, so no new
   * instance can take an address that another host's bootstrap (or keepalived, for the VIP) has
   * yet to claim. One per address, not merged blocks: reservations in a VPC must not overlap, and a
   * merged block that changed with the model would be created before its old one is deleted.
   */
  reservations: ReservationShape[];
  /** The cloud-only egress network (the VPC's second CIDR block). */
  egress: EgressShape;
  /**
   * Gateway VPC endpoints on the subnets' route table (they cost nothing): the region's S3 carries
   * the bundles, the SSM agent package and same-region origin reads inside AWS's network.
   */
  gatewayEndpoints: GatewayEndpoint[];
}

export type GatewayEndpoint = 's3';

export interface ReservationShape {
  /** Model subnet name. */
  subnet: string;
  /** A model address as a /32. */
  cidr: string;
}

/**
 * The VPC's second CIDR block, apart from every model subnet: the NAT gateway's public subnet and
 * one private egress subnet per zone that holds hosts. RFC 6598 shared address space, which AWS
 * admits as a secondary block beside any RFC 1918 primary; it is never routed beyond the VPC (the
 * NAT gateway translates it), so every site uses the same block.
 */
export const EGRESS_CIDR = '100.64.0.0/24';
/** The block is cut into /27s: the NAT subnet first, then one per zone index (27 hosts each). */
const EGRESS_SUBNET_LENGTH = 27;
/** How many zones the egress block serves (8 /27s, the first for the NAT gateway). */
export const EGRESS_MAX_ZONES = 2 ** (EGRESS_SUBNET_LENGTH - 24) - 1;

export interface EgressSubnetShape {
  /** Index into the site's pinned availability zones (no wrap-around: already reduced). */
  zoneIndex: number;
  cidr: string;
  /** The VPC router of the subnet (its network address + 1): the host's default gateway. */
  router: string;
}

export interface EgressShape {
  cidr: string;
  /** Public (routed to the internet gateway): holds only the NAT gateway, in the first host zone. */
  natSubnet: { zoneIndex: number; cidr: string };
  /** Private, routed to the NAT gateway: one per zone that holds hosts, in zone order. */
  subnets: EgressSubnetShape[];
}

/** The service name of a gateway endpoint in `region`. */
export function endpointService(region: string, endpoint: GatewayEndpoint): string {
  return `com.amazonaws.${region}.${endpoint}`;
}

export function networkShape(site: Site): NetworkShape {
  const subnets = Object.entries(site.subnets)
    .filter(([, cidr]) => !cidr.includes(':'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, cidr], i): SubnetShape => ({ name, cidr, azIndex: i }));
  const zoneCount = site.availabilityZones?.length ?? subnets.length;
  const hostZones = [...new Set(site.hosts.flatMap((h) => {
    const s = subnets.find((x) => contains(prefixOf(x.cidr), h.address));
    return s ? [zoneIndexOf(s, zoneCount)] : [];
  }))].sort((a, b) => a - b);
  if (hostZones.length > EGRESS_MAX_ZONES) throw new Error(`internal: ${site.id} has hosts in ${hostZones.length} zones, the egress block serves ${EGRESS_MAX_ZONES}`);
  const block = (i: number) => `${nthAddress(EGRESS_CIDR, i * 2 ** (32 - EGRESS_SUBNET_LENGTH))}/${EGRESS_SUBNET_LENGTH}`;
  const egress: EgressShape = {
    cidr: EGRESS_CIDR,
    natSubnet: { zoneIndex: hostZones[0] ?? 0, cidr: block(0) },
    subnets: hostZones.map((zoneIndex) => ({ zoneIndex, cidr: block(1 + zoneIndex), router: routerOf(block(1 + zoneIndex)) })),
  };
  const claimed = [...site.hosts.map((h) => h.address), site.vip.address].filter((a) => !a.includes(':'));
  const reservations = claimed.flatMap((address) => {
    const s = subnets.find((x) => contains(prefixOf(x.cidr), address));
    return s ? [{ subnet: s.name, cidr: `${address}/32` }] : [];
  });
  return { vpcCidr: supernet(subnets.map((s) => s.cidr)), subnets, reservations, egress, gatewayEndpoints: ['s3'] };
}

/** The zone index of a model subnet among `zoneCount` pinned zones (subnets wrap around). */
export function zoneIndexOf(subnet: SubnetShape, zoneCount: number): number {
  return subnet.azIndex % zoneCount;
}

/** The egress subnet in the zone of a model subnet. */
export function egressSubnetOf(network: NetworkShape, subnet: SubnetShape, zoneCount: number): EgressSubnetShape {
  const zoneIndex = zoneIndexOf(subnet, zoneCount);
  const found = network.egress.subnets.find((e) => e.zoneIndex === zoneIndex);
  if (!found) throw new Error(`internal: no egress subnet in zone ${zoneIndex} for ${subnet.name}`);
  return found;
}

/** The VPC router of a subnet: its network address + 1 (AWS reserves it for the router). */
export function routerOf(cidr: string): string {
  return nthAddress(cidr, 1);
}

function nthAddress(cidr: string, n: number): string {
  return fromInt(toInt(prefixOf(cidr).address.toString()) + n);
}

const toInt = (address: string): number => ipaddr.IPv4.parse(address).toByteArray().reduce((acc, b) => acc * 256 + b, 0);
const fromInt = (v: number): string => ipaddr.fromByteArray([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]).toString();

/** The model subnet that holds `address` (aws sites: IPv4 only). */
export function subnetOf(network: NetworkShape, address: string): SubnetShape | undefined {
  return network.subnets.find((s) => contains(prefixOf(s.cidr), address));
}

/** The smallest prefix covering all of `cidrs` (IPv4), by the model's prefix maths. */
export function supernet(cidrs: string[]): string {
  return covering(cidrs.map(prefixOf)).text;
}

function prefixOf(cidr: string): Prefix {
  const p = parsePrefix(cidr);
  if (typeof p === 'string') throw new Error(`internal: ${cidr} ${p}`);
  return p;
}
