// Derived images at the lb hosts (images.transforms): haproxy refuses every derived request the
// model does not allow, before a cache or a CPU sees it, and at a site that makes derived images
// with Squid caches among its caches it sends them to the nginx caches, which can resize.
//
// The refusal is one regex match per request under the prefix: a width not listed, a non-canonical
// spelling (/_w/0256/, /_w/256//a.png), a missing image path, or a transform of a transform
// (/_w/64/_w/512/a.png) is answered 400 here. So one derived image has one URL, and one cache key.
import { acceptPattern, derivedPathPattern, FORMAT_TYPES, needsDerivedBackend, negotiates, nestedPathPattern, refusalText, SOURCE_ACCEPT, transformCaches, transformsOf } from '../model/transforms.ts';
import type { Site, Topology } from '../model/schema.ts';
import { comment, ident, kw, quote, type HaproxyLine, type HaproxySection } from './syntax/haproxy.ts';

/** The backend of a transforming site's nginx caches, when it has Squid caches too. */
export const DERIVED_BACKEND = 'derived';

/** Frontend lines, before default_backend. */
export function derivedFrontendLines(t: Topology, site: Site): HaproxyLine[] {
  const tr = transformsOf(t);
  if (!tr) return [];
  const lines: HaproxyLine[] = [
    comment(`derived images (images.transforms): only ${tr.pathPrefix}/<width>/<path> with a listed width; the rest is refused here, before it costs CPU`),
    kw('acl', 'derived', 'path_beg', `${tr.pathPrefix}/`),
    kw('acl', 'derived_ok', 'path_reg', derivedPathPattern(tr)),
    kw('acl', 'derived_nested', 'path_reg', nestedPathPattern(tr)),
    kw('http-request', 'return', 'status', '400', 'content-type', 'text/plain', 'string', quote(refusalText(tr)), 'if', 'derived', '!derived_ok', 'or', 'derived_nested'),
  ];
  if (negotiates(tr)) {
    // Each rule sees the header the one before it left: once a format is chosen, no later one matches.
    const types = tr.formats.map((f) => FORMAT_TYPES[f]);
    lines.push(
      comment(`formats (images.transforms.formats): the first of ${tr.formats.join(', ')} the client names in Accept, else the original's; the Accept left here is all every cache keys on`),
      ...tr.formats.map((f) => kw('acl', `accept_${f}`, 'req.hdr(accept)', '-m', 'reg', '-i', quote(acceptPattern(f)))),
      ...tr.formats.map((f) => kw('http-request', 'set-header', 'Accept', FORMAT_TYPES[f], 'if', 'derived', `accept_${f}`)),
      kw('http-request', 'set-header', 'Accept', quote(SOURCE_ACCEPT), 'if', 'derived', '!{', 'req.hdr(accept)', '-m', 'str', ...types, '}'),
    );
  }
  if (needsDerivedBackend(t, site)) {
    lines.push(comment('Squid cannot resize: derived images go to the nginx caches'), kw('use_backend', DERIVED_BACKEND, 'if', 'derived'));
  }
  return lines;
}

/**
 * The sections with the derived backend added after `caches` where the site needs it: the same
 * balancing, checks and retries as `caches` (copied from its lines, so a change there applies
 * here too), over the nginx caches only.
 */
export function withDerivedBackend(t: Topology, site: Site, sections: HaproxySection[], cachesBackend: string): HaproxySection[] {
  if (!needsDerivedBackend(t, site)) return sections;
  const at = sections.findIndex((s) => s.head[0] === 'backend' && s.head[1] === cachesBackend);
  if (at < 0) throw new Error(`internal: no backend ${cachesBackend} to derive ${DERIVED_BACKEND} from`);
  const nginx = new Set(transformCaches(site).map((h) => ident(h.name)));
  const lines = sections[at]!.lines.filter((l) => l.kind !== 'kw' || l.words[0] !== 'server' || nginx.has(l.words[1]!));
  const derived: HaproxySection = {
    head: ['backend', DERIVED_BACKEND],
    comment: `Derived images: the nginx caches (${[...nginx].join(', ')}), which make them with image_filter.`,
    lines,
  };
  return [...sections.slice(0, at + 1), derived, ...sections.slice(at + 1)];
}
