// Where a cache fetches its misses: the origin (an S3 bucket or an HTTP origin), and at every site
// but the shield, first the shield site's published image VIP. Shared by the nginx and Squid
// renderers, so both engines build the same two-tier hierarchy from the model.
import type { Site, Topology } from '../model/schema.ts';
import { publishedVip } from './knot.ts';

export interface OriginTarget {
  /** The host the cache connects to (and verifies and sends as SNI over TLS). */
  host: string;
  port: number;
  tls: boolean;
  /** The Host header the origin expects: the S3 virtual-hosted bucket name, or the URL's authority. */
  hostHeader: string;
}

export function originTarget(t: Topology): OriginTarget {
  const o = t.cdn.origin;
  if ('s3' in o) {
    const host = `${o.s3.bucket}.s3.${o.s3.region}.amazonaws.com`;
    return { host, port: 443, tls: true, hostHeader: host };
  }
  const m = /^(https?):\/\/([a-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(o.http.url);
  if (!m) throw new Error(`internal: origin.http.url ${JSON.stringify(o.http.url)} passed the schema but does not parse`);
  const tls = m[1] === 'https';
  const defaultPort = tls ? 443 : 80;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  return { host: m[2]!, port, tls, hostHeader: port === defaultPort ? m[2]! : `${m[2]!}:${port}` };
}

/** Misses go to the shield site's image VIP first, unless this site is the shield (or there is none). */
export interface ShieldTarget {
  site: string;
  address: string;
  port: number;
}

export function shieldTarget(t: Topology, site: Site): ShieldTarget | undefined {
  if (t.cdn.shield === undefined || t.cdn.shield === site.id) return undefined;
  const shield = t.sites.find((s) => s.id === t.cdn.shield);
  if (!shield) throw new Error(`internal: shield ${t.cdn.shield} is not a site (the model rule should have caught it)`);
  return { site: shield.id, address: publishedVip(shield), port: 80 };
}

/** Statuses in model order for proxy_cache_valid / refresh rules: numeric first, then any. */
export function validEntries(t: Topology): [status: string, sec: number][] {
  return Object.entries(t.cdn.cache.validSec).sort(([a], [b]) => (a === 'any' ? 1 : b === 'any' ? -1 : Number(a) - Number(b)));
}
