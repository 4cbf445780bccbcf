// Derived images (images.transforms) against the rest of the model: the widths and formats are sets, the
// prefix takes no path the CDN already answers, and every site that makes derived images has an
// nginx cache to make them (Squid cannot resize; haproxy sends derived requests to nginx caches).
import { transformCaches, transformsAt, transformsOf } from '../transforms.ts';
import type { Rule } from './types.ts';

/**
 * Paths the caches answer themselves whatever the model says: Squid's internal URLs (its health
 * icon among them) and nginx's health path. test/model/images.test.ts holds this list to
 * lib/render/cache-health.ts (render imports model, never the reverse).
 */
export const CACHE_OWN_PATHS = ['/squid-internal-static/', '/squid-internal-mgr/', '/.anycdn/'];

export const images: Rule = (t, report) => {
  const tr = transformsOf(t);
  if (!tr) return;
  const at = ['images', 'transforms'];
  tr.widths.forEach((w, i) => {
    const first = tr.widths.indexOf(w);
    if (first !== i) report(null, [...at, 'widths', i], `images.transforms.widths[${i}]: ${w} is listed twice (also widths[${first}]); list each width once`);
  });
  tr.formats.forEach((f, i) => {
    const first = tr.formats.indexOf(f);
    if (first !== i) report(null, [...at, 'formats', i], `images.transforms.formats[${i}]: ${f} is listed twice (also formats[${first}]); list each format once`);
  });
  const reserved = [t.cdn.healthcheck.path, ...CACHE_OWN_PATHS];
  for (const path of reserved) {
    if (path === tr.pathPrefix || path.startsWith(`${tr.pathPrefix}/`) || `${path}/`.startsWith(`${tr.pathPrefix}/`)) {
      report(null, [...at, 'pathPrefix'], `images.transforms.pathPrefix: ${tr.pathPrefix} would take ${path}, which the CDN answers itself; choose another prefix, such as /_w`);
    }
  }
  for (const site of t.sites) {
    if (!transformsAt(t, site) || transformCaches(site).length > 0) continue;
    const why = t.cdn.shield === site.id ? 'it is the shield, where derived images are made' : 'there is no shield, so every site makes its own derived images';
    report(
      site.id,
      ['hosts'],
      `hosts: site ${site.id} has no active nginx cache, and ${why}; Squid cannot resize images: add a host with roles: [cache] and cacheEngine: nginx${t.cdn.shield === undefined ? ', or set shield: to a site with nginx caches' : ''}`,
    );
  }
};
