// Shapes of the model that older anycdn versions took. A file still written that way gets one
// error that shows the new shape, filled in with its own values, instead of "unknown key" plus
// "is required" for the replacement.
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ROUTABLE_LENGTH } from './net.ts';

export interface OldShape {
  /** Where the old key is; errors of the schema under `covers` are this one's consequences. */
  path: PropertyKey[];
  covers: PropertyKey[];
  message: string;
  /** A top-level key the schema no longer has: left out of what it checks, so no "unknown key" repeats this message. */
  drop?: string;
}

/** The old shapes in the global file's plain data. */
export function oldShapes(global: boolean, value: unknown): OldShape[] {
  if (!global && isObject(value) && 'asn' in value) {
    const n = typeof value.asn === 'number' ? value.asn : 'N';
    return [
      {
        path: ['asn'],
        covers: ['asn'],
        drop: 'asn',
        message: `asn: a site ASN of older anycdn versions; every site now originates the anycast prefixes from one AS, so remove asn here and set bgp: {originAsn: ${n}} in cdn.yaml, your public ASN (a private one only with bgp.upstreamOriginAsn)`,
      },
    ];
  }
  if (!global || !isObject(value) || !isObject(value.anycast)) return [];
  const anycast = value.anycast;
  const key = 'ipv4' in anycast ? 'ipv4' : 'ipv6' in anycast ? 'ipv6' : undefined;
  if (!key) return [];
  const v4 = family(anycast.ipv4, 4);
  const v6 = 'ipv6' in anycast ? family(anycast.ipv6, 6) : undefined;
  const entry = [`name: a`, `ipv4: ${v4}`, ...(v6 ? [`ipv6: ${v6}`] : [])].join(', ');
  return [
    {
      path: ['anycast', key],
      covers: ['anycast'],
      message: `anycast.${key}: the single service address of older anycdn versions; anycast now lists covering prefixes, each with its service address, so write anycast: {prefixes: [{${entry}}]}`,
    },
  ];
}

/**
 * The new form of one family from the old `192.0.2.53/32`: the address, and the covering prefix
 * upstreams carry (the /24 or /48 around it). A value that is no address gets the example's.
 */
function family(old: unknown, fam: 4 | 6): string {
  const address = typeof old === 'string' ? old.replace(/\/\d{1,3}$/, '') : '';
  const valid = fam === 4 ? isIPv4(address) : isIPv6(address);
  const a = valid ? ipaddr.parse(address).toString() : fam === 4 ? '192.0.2.53' : '2001:db8:53::53';
  const length = ROUTABLE_LENGTH[fam];
  const net = fam === 4 ? ipaddr.IPv4.networkAddressFromCIDR(`${a}/${length}`) : ipaddr.IPv6.networkAddressFromCIDR(`${a}/${length}`);
  // IPv6 in quotes, as the shipped cdn.yaml writes it: a plain scalar with ": " would not parse.
  const q = (s: string) => (fam === 6 ? `"${s}"` : s);
  return `{prefix: ${q(`${net.toString()}/${length}`)}, address: ${q(a)}}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
