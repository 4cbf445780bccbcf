// The network of an aws site, from the model's subnets: one VPC whose CIDR covers every site
// subnet, one public subnet per model subnet (exact prefixes, so host addresses stay valid), each
// in an availability zone picked by its position in name order.
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
   * Gateway VPC endpoints on the subnets' route table (they cost nothing): the region's S3 carries
   * the bundles, the SSM agent package and same-region origin reads inside AWS's network.
   */
  gatewayEndpoints: GatewayEndpoint[];
}

export type GatewayEndpoint = 's3';

/** The service name of a gateway endpoint in `region`. */
export function endpointService(region: string, endpoint: GatewayEndpoint): string {
  return `com.amazonaws.${region}.${endpoint}`;
}

export function networkShape(site: Site): NetworkShape {
  const subnets = Object.entries(site.subnets)
    .filter(([, cidr]) => !cidr.includes(':'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, cidr], i): SubnetShape => ({ name, cidr, azIndex: i }));
  return { vpcCidr: supernet(subnets.map((s) => s.cidr)), subnets, gatewayEndpoints: ['s3'] };
}

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
