// Facts about derived images (images.transforms) that the renderers, the rules and the lab share:
// which sites make them, the URL form, and the patterns that accept exactly the allowed widths.
//
// URL form: <pathPrefix>/<width>/<path of the original>, for example /_w/256/img/0001.png. The
// width is written in its canonical decimal form (no sign, no leading zero) and must be one of
// images.transforms.widths; the original's path follows after exactly one slash and never starts
// with the prefix again (no chains of transforms). Any other spelling under the prefix is refused,
// so one derived image has exactly one URL, and so one cache key, at every tier.
import { cacheHosts, isDrained, originEntries } from './facts.ts';
import type { Site, Topology } from './schema.ts';

export type Transforms = NonNullable<NonNullable<Topology['cdn']['images']>['transforms']>;

/** The model's transforms, or undefined when the CDN serves only the stored bytes. */
export function transformsOf(t: Topology): Transforms | undefined {
  return t.cdn.images?.transforms;
}

/**
 * Whether a site makes derived images itself: the shield site, or every site when there is no
 * shield. The other sites fetch them from the shield like any miss (and, at nginx caches, make
 * them locally only while the shield fails).
 */
export function transformsAt(t: Topology, site: Site): boolean {
  return transformsOf(t) !== undefined && (t.cdn.shield === undefined || t.cdn.shield === site.id);
}

/** The nginx caches of a site that take derived requests (drained ones are out, as in haproxy). */
export function transformCaches(site: Site) {
  return cacheHosts(site).filter((h) => h.cacheEngine === 'nginx' && !isDrained(h));
}

/** Whether haproxy must send derived requests to a backend of their own: a transforming site with Squid caches. */
export function needsDerivedBackend(t: Topology, site: Site): boolean {
  return transformsAt(t, site) && cacheHosts(site).some((h) => h.cacheEngine !== 'nginx');
}

/** The allowed widths, ascending and unique, as the alternation the patterns use: 64|128|256. */
export function widthAlternation(tr: Transforms): string {
  return [...new Set(tr.widths)].sort((a, b) => a - b).join('|');
}

/** A regular expression (PCRE and JavaScript alike) that matches exactly the accepted derived paths. */
export function derivedPathPattern(tr: Transforms): string {
  return `^${tr.pathPrefix}/(${widthAlternation(tr)})/[^/]`;
}

/** Paths under the prefix that would ask for a transform of a transform: refused. */
export function nestedPathPattern(tr: Transforms): string {
  return `^${tr.pathPrefix}/[^/]*${tr.pathPrefix}/`;
}

/** What a client that asked for something else is told (haproxy's 400 body). */
export function refusalText(tr: Transforms): string {
  return `derived images: ${tr.pathPrefix}/<width>/<image path> with width one of ${widthAlternation(tr).split('|').join(', ')}`;
}

/** Whether a path is an accepted derived image path, and which width and original it names. */
export function parseDerived(tr: Transforms, path: string): { width: number; source: string } | undefined {
  if (!new RegExp(derivedPathPattern(tr)).test(path) || new RegExp(nestedPathPattern(tr)).test(path)) return undefined;
  const rest = path.slice(tr.pathPrefix.length + 1);
  const slash = rest.indexOf('/');
  return { width: Number(rest.slice(0, slash)), source: rest.slice(slash) };
}

/** A format a derived image is made in for a browser that takes it (images.transforms.formats). */
export type Format = Transforms['formats'][number];

/** The MIME type a browser names in Accept for each format, and the derived image's Content-Type. */
export const FORMAT_TYPES: Record<Format, string> = { avif: 'image/avif', webp: 'image/webp' };

/**
 * The Accept header haproxy leaves on a derived request, one per outcome of the negotiation: the
 * type of the format chosen, or `*\/*` for the original's own format. Every cache keys on it
 * (nginx through its map, Squid through the shield's Vary: Accept), so a site holds at most one
 * copy per format of each derived image, whatever Accept strings its clients send.
 */
export const SOURCE_ACCEPT = '*/*';

/** Whether derived images are negotiated on Accept (formats listed). */
export function negotiates(tr: Transforms | undefined): boolean {
  return tr !== undefined && tr.formats.length > 0;
}

/**
 * A regular expression (PCRE and JavaScript alike, matched case-insensitively) for one element of
 * an Accept list (haproxy's req.hdr() splits the list on commas and trims each element) that names
 * `format` with no zero weight: `image/avif`, `image/avif;q=0.8`, not `image/avif;q=0`. A wildcard
 * (`image/*`, `*\/*`) never counts: a browser gets AVIF or WebP only when it names the type.
 */
export function acceptPattern(format: Format): string {
  return `^${FORMAT_TYPES[format]}\\s*(;(?!\\s*q\\s*=\\s*0(\\.0*)?\\s*(;|$))[^;]*)*$`;
}

/** The negotiation as a function, for tests and the lab: the format a client with this Accept header gets. */
export function negotiate(tr: Transforms, accept: string | undefined): Format | undefined {
  const elements = (accept ?? '').split(',').map((e) => e.trim());
  return tr.formats.find((f) => elements.some((e) => new RegExp(acceptPattern(f), 'i').test(e)));
}

/**
 * How long each step of a derived miss may take (seconds), so that every hop waits longer than the
 * one behind it and a busy shield is never cut off by its own client:
 * - `original`: the thumbnailer reading the original from its own nginx, which may go to the shield
 *   and then to each origin in turn (a connect and a read each);
 * - `make`: at the thumbnailer: the original, a wait for a free worker, the transform;
 * - `viaShield`: at a site behind the shield, waiting for the shield's haproxy to answer a derived
 *   miss; haproxy's own server timeout covers it.
 */
export function derivedTimeouts(t: Topology): { original: number; make: number; viaShield: number } {
  const tr = transformsOf(t);
  const c = t.cdn.cache;
  const origins = originEntries(t.cdn).length;
  const original = (origins + (t.cdn.shield === undefined ? 0 : 1)) * (c.originConnectTimeoutSec + c.originReadTimeoutSec) + 2;
  const make = original + 2 * (tr?.timeoutSec ?? 0) + 2;
  return { original, make, viaShield: make + 5 };
}
