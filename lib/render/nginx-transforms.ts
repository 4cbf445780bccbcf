// Derived images at the nginx caches (images.transforms): anycdn-thumbnailer (lib/render/thumbnailer.ts,
// libvips) on loopback makes them on a miss, and the image server caches the result like any
// image, under its own path (and format) as the key.
//
//   image server, location <prefix>/<width>/...   proxy_cache, key: the format and the derived path
//     -> anycdn-thumbnailer on loopback             libvips: shrink, encode; no cache of its own
//       -> this image server on loopback           the original, from this cache, the shield or the
//                                                  origin, and cached here as itself
// (both loopback listeners are endpoints: 'thumbnailer' and 'cache-originals', lib/render/endpoints.ts)
//
// Formats (images.transforms.formats): haproxy has already reduced the client's Accept header to
// one value per outcome (image/avif, image/webp or */*, lib/render/haproxy-transforms.ts). A map
// turns it into $anycdn_format (avif, webp or empty: the original's format), which is both in the
// cache key and what the thumbnailer is asked to make, so a key never holds another format. A
// request that reaches a cache without haproxy's Accept gets the original's format. nginx keys on
// the format itself and ignores the Vary header for caching, which it still sends to clients.
//
// Where derived images are made (lib/model/transforms.ts): at the shield site, or at every site
// when there is no shield. The other sites ask the shield for the derived path like any miss, with
// the same reduced Accept; if the shield fails (5xx, connect error) an nginx cache makes the image
// itself rather than ask the origin, which has no derived images.
import type { Host, Site, Topology } from '../model/schema.ts';
import { derivedPathPattern, derivedTimeouts, FORMAT_TYPES, nestedPathPattern, negotiates, SOURCE_ACCEPT, transformsAt, transformsOf, widthAlternation } from '../model/transforms.ts';
import { requestHeaders } from './nginx-origins.ts';
import { blank, block, stmt, type Node } from './syntax/brace.ts';
import { quote } from './syntax/nginx.ts';
import { hostPort } from './endpoints.ts';
import { thumbnailerEndpoints } from './thumbnailer.ts';

const THUMBNAILER_UPSTREAM = 'anycdn_thumbnailer';
/** The format haproxy negotiated: avif, webp, or empty for the original's own. */
const FORMAT_VAR = '$anycdn_format';
/** The Accept header that asks the shield for exactly that format. */
const ACCEPT_VAR = '$anycdn_accept';

/** In http {}: the thumbnailer's upstream and, with formats, the maps of the negotiated format. */
export function transformHttp(t: Topology, site: Site, host: Host): Node[] {
  const tr = transformsOf(t);
  if (!tr) return [];
  const nodes: Node[] = [
    blank,
    { kind: 'comment', text: 'Derived images (images.transforms): made by anycdn-thumbnailer (libvips) on loopback, cached by the image server.' },
    block(['upstream', THUMBNAILER_UPSTREAM], [stmt('server', quote(hostPort(thumbnailerEndpoints(t, site, host).listen))), stmt('keepalive', 16)]),
  ];
  if (negotiates(tr)) {
    const types = tr.formats.map((f) => [FORMAT_TYPES[f], f] as const);
    nodes.push(
      { kind: 'comment', text: `The format haproxy chose from the client's Accept (${tr.formats.join(', ')}): one cached copy each; anything else is the original's format.` },
      block(['map', '$http_accept', FORMAT_VAR], [stmt('default', quote('')), ...types.map(([type, f]) => stmt(quote(type), f))]),
      block(['map', '$http_accept', ACCEPT_VAR], [stmt('default', quote(SOURCE_ACCEPT)), ...types.map(([type]) => stmt(quote(type), quote(type)))]),
    );
  }
  return nodes;
}

/** In the image server: the loopback listener the thumbnailer reads originals from. */
export function originalsListen(t: Topology, site: Site, host: Host): Node[] {
  if (!transformsOf(t)) return [];
  return [stmt('listen', quote(hostPort(thumbnailerEndpoints(t, site, host).originals)))];
}

/**
 * In the image server, before `location /`: derived paths. Exactly the accepted URL form is
 * served (haproxy refuses the rest first; this is the same rule again, for requests that reach a
 * cache directly).
 */
export function derivedLocations(t: Topology, site: Site, _host: Host, viaShield: boolean, stripQuery: Node[], cacheKey: string): Node[] {
  const tr = transformsOf(t);
  if (!tr) return [];
  const timeouts = derivedTimeouts(t);
  const negotiated = negotiates(tr);
  // Every cache of the derived path keys on the format too, and waits for a miss under way as long as it may take.
  const keyed = (waitSec: number): Node[] => [
    ...(negotiated ? [stmt('proxy_cache_key', `${FORMAT_VAR}${cacheKey}`), stmt('proxy_ignore_headers', 'Set-Cookie', 'Vary')] : []),
    stmt('proxy_cache_lock_timeout', `${waitSec}s`),
    stmt('proxy_cache_lock_age', `${waitSec}s`),
    stmt('proxy_read_timeout', `${waitSec}s`),
  ];
  const local = [
    ...stripQuery,
    ...keyed(timeouts.make),
    stmt('proxy_pass', `http://${THUMBNAILER_UPSTREAM}`),
    ...requestHeaders(t.cdn.imageHost),
    ...(negotiated ? [stmt('proxy_set_header', 'X-Anycdn-Format', FORMAT_VAR)] : []),
  ];
  const accepted = transformsAt(t, site) || !viaShield
    ? local
    : [
        ...stripQuery,
        ...keyed(timeouts.viaShield),
        stmt('proxy_pass', 'http://shield'),
        ...requestHeaders(t.cdn.imageHost),
        ...(negotiated ? [stmt('proxy_set_header', 'Accept', ACCEPT_VAR)] : []),
        stmt('proxy_intercept_errors', 'on'),
        { kind: 'comment' as const, text: 'the origin has no derived images: while the shield fails, make them here' },
        stmt('error_page', 500, 502, 503, 504, '=', '@anycdn_thumbnail'),
      ];
  const nodes: Node[] = [
    blank,
    { kind: 'comment', text: `Derived images: ${tr.pathPrefix}/<width>/<path>, widths ${widthAlternation(tr).split('|').join(', ')}${negotiated ? `, as ${tr.formats.join(' or ')} where haproxy chose it` : ''}; anything else under ${tr.pathPrefix}/ is refused.` },
    block(['location', '^~', quote(`${tr.pathPrefix}/`)], [
      block(['location', '~', regex(nestedPathPattern(tr))], [stmt('return', 400)]),
      block(['location', '~', regex(derivedPathPattern(tr))], accepted),
      stmt('return', 400),
    ]),
  ];
  if (accepted !== local) nodes.push(block(['location', '@anycdn_thumbnail'], local));
  return nodes;
}

/**
 * A regular expression as nginx syntax. It is built here from the model's pathPrefix (one segment
 * of [a-z0-9_-], schema-checked) and widths (integers), so it is plain syntax, not a value to
 * quote; this re-checks that nothing else got in.
 */
function regex(re: string): string {
  if (!/^[\^$/a-z0-9_()|?<>.*+\[\]-]+$/.test(re)) throw new Error(`internal: ${JSON.stringify(re)} is not a transform pattern`);
  return re;
}
