// Every renderer, and the one function that renders a whole topology.
import { byCodePoint } from '../model/order.ts';
import type { Topology } from '../model/schema.ts';
import { renderBird } from './bird.ts';
import { renderHaproxy } from './haproxy.ts';
import { renderHealthcheck } from './healthcheck.ts';
import { renderKeepalived } from './keepalived.ts';
import { renderKnot } from './knot.ts';
import { renderNginx } from './nginx.ts';
import { renderSecrets } from './secrets.ts';
import { renderSquid } from './squid.ts';
import type { RenderedFile, Renderer } from './types.ts';
import { renderUnits } from './units.ts';

export const RENDERERS: Renderer[] = [renderBird, renderKnot, renderHealthcheck, renderSecrets, renderHaproxy, renderKeepalived, renderNginx, renderSquid, renderUnits];

/** All files for all hosts, sorted by site, host and path. Pure: same topology, same bytes. */
export function renderTopology(t: Topology): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const site of t.sites) {
    for (const host of site.hosts) {
      for (const r of RENDERERS) files.push(...r(t, site, host));
    }
  }
  const seen = new Set<string>();
  for (const f of files) {
    const key = `${f.site}/${f.host}${f.path}`;
    if (seen.has(key)) throw new Error(`internal: two renderers wrote ${key}`);
    seen.add(key);
  }
  return files.sort((a, b) => byCodePoint(a.site, b.site) || byCodePoint(a.host, b.host) || byCodePoint(a.path, b.path));
}

/** Where a file goes in the output tree: <site>/<host>/<absolute path on the host>. */
export function outputPath(f: RenderedFile): string {
  return `${f.site}/${f.host}${f.path}`;
}
