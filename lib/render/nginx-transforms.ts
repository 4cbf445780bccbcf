// Derived images at the nginx caches (images.transforms): nginx's own image_filter module
// (Debian package libnginx-mod-http-image-filter) shrinks the original in-process, and the result
// is cached like any image, under its own path as the key (/_w/256/img/a.png).
//
// Three steps inside one nginx, so the derived image is cached once and the transform runs only
// on a miss (image_filter is a body filter: in a caching location it would run on every hit):
//
//   image server, location <prefix>/<width>/...  proxy_cache (key: the derived path); on a miss
//     -> transform server on loopback (endpoints.ts)  image_filter resize <width> -, no cache
//       -> this host's image server, location /       the original, from this cache, the shield
//                                                     or the origin, and cached there as itself
//
// Where derived images are made (lib/model/transforms.ts): at the shield site, or at every site
// when there is no shield. The other sites ask the shield for the derived path like any miss; if
// the shield fails (5xx, connect error) an nginx cache makes the image itself rather than ask the
// origin, which has no derived images.
import type { Host, Site, Topology } from '../model/schema.ts';
import { nestedPathPattern, derivedPathPattern, transformsAt, transformsOf, type Transforms } from '../model/transforms.ts';
import { endpointOf, hostPort, type Endpoint } from './endpoints.ts';
import { requestHeaders } from './nginx-origins.ts';
import { blank, block, stmt, type Node } from './syntax/brace.ts';
import { quote } from './syntax/nginx.ts';

/** Where Debian's libnginx-mod-http-image-filter puts the module (nginx's --modules-path). */
export const IMAGE_FILTER_MODULE = '/usr/lib/nginx/modules/ngx_http_image_filter_module.so';
export const IMAGE_FILTER_PACKAGE = 'libnginx-mod-http-image-filter';

const TRANSFORM_UPSTREAM = 'anycdn_transform';
const ORIGINALS_UPSTREAM = 'anycdn_originals';

/** Top of nginx.conf: the module, before any block (nginx requires load_module first). */
export function transformModule(t: Topology): Node[] {
  if (!transformsOf(t)) return [];
  return [stmt('load_module', quote(IMAGE_FILTER_MODULE)), blank];
}

/** In http {}: the two upstreams and the transform server. */
export function transformHttp(t: Topology, site: Site, host: Host): Node[] {
  const tr = transformsOf(t);
  if (!tr) return [];
  const transform = endpointOf(t, site, host, 'nginx', 'cache-transform');
  return [
    blank,
    { kind: 'comment', text: 'Derived images (images.transforms): made by the transform server below, cached by the image server.' },
    block(['upstream', TRANSFORM_UPSTREAM], [stmt('server', quote(hostPort(transform))), stmt('keepalive', 16)]),
    // The originals: this host's own image server.
    block(['upstream', ORIGINALS_UPSTREAM], [stmt('server', quote(hostPort(endpointOf(t, site, host, 'nginx', 'cache-http')))), stmt('keepalive', 16)]),
    blank,
    block(['server'], transformServer(t, tr, transform)),
  ];
}

/** image_filter's settings from the model (server level of the transform server; the bench uses them too). */
export function filterSettings(tr: Transforms): Node[] {
  return [
    stmt('image_filter_buffer', `${tr.maxSourceMiB}m`),
    stmt('image_filter_jpeg_quality', tr.jpegQuality),
    stmt('image_filter_webp_quality', tr.webpQuality),
    stmt('image_filter_interlace', 'off'),
    stmt('image_filter_transparency', 'on'),
  ];
}

/** The transform itself: shrink to the width the location's regex captured, keeping the aspect ratio. */
export function resize(): Node {
  return stmt('image_filter', 'resize', '$anycdn_width', '-');
}

function transformServer(t: Topology, tr: Transforms, transform: Endpoint): Node[] {
  const widths = [...new Set(tr.widths)].sort((a, b) => a - b).join('|');
  return [
    stmt('listen', quote(hostPort(transform))),
    stmt('server_name', quote('')),
    stmt('access_log', 'off'),
    ...filterSettings(tr),
    blank,
    block(['location', '~', regex(`^${tr.pathPrefix}/(?<anycdn_width>${widths})/`)], [
      resize(),
      { kind: 'comment', text: 'the original: this host\'s image server, which caches it under its own path' },
      stmt('rewrite', regex(`^${tr.pathPrefix}/[0-9]+(/.*)$`), '$1', 'break'),
      stmt('proxy_pass', `http://${ORIGINALS_UPSTREAM}`),
      stmt('proxy_http_version', '1.1'),
      ...requestHeaders(t.cdn.imageHost),
    ]),
    block(['location', '/'], [stmt('return', 404)]),
  ];
}

/**
 * In the image server, before `location /`: derived paths. Exactly the accepted URL form is
 * served (haproxy refuses the rest first; this is the same rule again, for requests that reach a
 * cache directly).
 */
export function derivedLocations(t: Topology, site: Site, viaShield: boolean, stripQuery: Node[]): Node[] {
  const tr = transformsOf(t);
  if (!tr) return [];
  const local = [...stripQuery, stmt('proxy_pass', `http://${TRANSFORM_UPSTREAM}`), ...requestHeaders(t.cdn.imageHost)];
  const accepted = transformsAt(t, site) || !viaShield
    ? local
    : [
        ...stripQuery,
        stmt('proxy_pass', 'http://shield'),
        ...requestHeaders(t.cdn.imageHost),
        stmt('proxy_intercept_errors', 'on'),
        { kind: 'comment' as const, text: 'the origin has no derived images: while the shield fails, make them here' },
        stmt('error_page', 500, 502, 503, 504, '=', '@anycdn_transform'),
      ];
  const nodes: Node[] = [
    blank,
    { kind: 'comment', text: `Derived images: ${tr.pathPrefix}/<width>/<path>, widths ${[...new Set(tr.widths)].sort((a, b) => a - b).join(', ')}; anything else under ${tr.pathPrefix}/ is refused.` },
    block(['location', '^~', quote(`${tr.pathPrefix}/`)], [
      block(['location', '~', regex(nestedPathPattern(tr))], [stmt('return', 400)]),
      block(['location', '~', regex(derivedPathPattern(tr))], accepted),
      stmt('return', 400),
    ]),
  ];
  if (accepted !== local) nodes.push(block(['location', '@anycdn_transform'], local));
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
