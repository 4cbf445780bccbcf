// Every renderer, and the one function that renders a whole topology. The front door of render:
// adapters (cdk, pulumi, cloud, plan, lab, check, drain, cli) import this module, its types and
// the dialects (syntax/), never a daemon's renderer (test/road.test.ts holds them to it).
import { byCodePoint } from '../model/order.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { hostNeeds, hostPackages, type HostNeeds } from './catalog.ts';
import { renderBird } from './bird.ts';
import { hostEndpoints, type Endpoint } from './endpoints.ts';
import { renderExporterFirewall } from './exporter-firewall.ts';
import { renderHaproxy } from './haproxy.ts';
import { renderHealthcheck } from './healthcheck.ts';
import { renderKeepalived } from './keepalived.ts';
import { renderKnot } from './knot.ts';
import { PROMETHEUS_HOST, renderPrometheus } from './prometheus.ts';
import { renderMtail } from './mtail.ts';
import { renderNginx } from './nginx.ts';
import { renderSecrets } from './secrets.ts';
import { renderCerts } from './certs.ts';
import { renderSquid } from './squid.ts';
import { renderThumbnailer } from './thumbnailer.ts';
import type { RenderContext, RenderedFile, Renderer } from './types.ts';
import { renderUnits, unitSpecs, type UnitSpec } from './units.ts';

export const RENDERERS: Renderer[] = [renderBird, renderKnot, renderHealthcheck, renderSecrets, renderCerts, renderHaproxy, renderKeepalived, renderNginx, renderMtail, renderThumbnailer, renderSquid, renderExporterFirewall, renderUnits];

/**
 * One host's render, the one thing every adapter reads: its files, its units as data, the Debian
 * packages they need, what the host needs besides (see catalog.ts), and every listener its units
 * open (see endpoints.ts).
 */
export interface HostPlan {
  site: string;
  host: string;
  /** Sorted by path. */
  files: RenderedFile[];
  /** In the order the unit files are written (by role). */
  units: UnitSpec[];
  packages: string[];
  needs: HostNeeds;
  /** In unit order, then as each unit lists them. */
  endpoints: Endpoint[];
}

export function renderHost(t: Topology, site: Site, host: Host, ctx: RenderContext = {}): HostPlan {
  const files = RENDERERS.flatMap((r) => r(t, site, host, ctx)).sort((a, b) => byCodePoint(a.path, b.path));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.path === files[i - 1]!.path) throw new Error(`internal: two renderers wrote ${site.id}/${host.name}${files[i]!.path}`);
  }
  const units = unitSpecs(t, site, host);
  return { site: site.id, host: host.name, files, units, packages: hostPackages(units), needs: hostNeeds(t, site, host, units), endpoints: hostEndpoints(t, site, host, units) };
}

/** Every host's plan, sorted by site and host. Pure: same topology and context, same bytes. */
export function renderPlans(t: Topology, ctx: RenderContext = {}): HostPlan[] {
  return t.sites
    .flatMap((site) => site.hosts.map((host) => renderHost(t, site, host, ctx)))
    .sort((a, b) => byCodePoint(a.site, b.site) || byCodePoint(a.host, b.host));
}

/**
 * The Prometheus server's files as a plan of their own (site `monitoring`, host `prometheus`), so
 * validate checks them like any host's; none without `monitoring`. Not a site host: the cloud
 * and the lab read renderPlans() only.
 */
export function monitoringPlans(t: Topology): HostPlan[] {
  const files = renderPrometheus(t);
  if (files.length === 0) return [];
  const needs = { dirs: [], interfaces: [], hostNames: [], secretFiles: [], certPaths: [], stateFiles: [] };
  return [{ ...PROMETHEUS_HOST, files, units: [], packages: ['prometheus'], needs, endpoints: [] }];
}

/** All files for all hosts and the Prometheus server, sorted by site, host and path. */
export function renderTopology(t: Topology, ctx: RenderContext = {}): RenderedFile[] {
  return outputPlans(t, ctx).flatMap((p) => p.files);
}

/** Every plan `render` writes to --out: the sites' hosts and the Prometheus server, sorted by site and host. */
export function outputPlans(t: Topology, ctx: RenderContext = {}): HostPlan[] {
  return [...renderPlans(t, ctx), ...monitoringPlans(t)].sort((a, b) => byCodePoint(a.site, b.site) || byCodePoint(a.host, b.host));
}

/** Where a file goes in the output tree: <site>/<host>/<absolute path on the host>. */
export function outputPath(f: RenderedFile): string {
  return `${f.site}/${f.host}${f.path}`;
}

/** The HostPlans of one site, in host order. */
export function sitePlans(plans: HostPlan[], site: string): HostPlan[] {
  return plans.filter((p) => p.site === site);
}

/** The HostPlan of one host; throws when the render has none (an adapter handed the wrong plans). */
export function planOf(plans: HostPlan[], site: string, host: string): HostPlan {
  const p = plans.find((x) => x.site === site && x.host === host);
  if (!p) throw new Error(`internal: no HostPlan for ${site}/${host}`);
  return p;
}

// What adapters may use of render besides the plans: the types of the road, the layout of a host
// (paths), the catalog's per-unit answers, and the names the runtime commands address (haproxy's
// frontend, backend and drain key; the Prometheus server's pseudo host).
export type { DirNeed, HostNeeds } from './catalog.ts';
export type { Endpoint, Health, Purpose, Reach } from './endpoints.ts';
export type { UnitSpec } from './units.ts';
export { BIRD_ANNOUNCE_DEFAULT, catalogUnits, unitPackages, unitRole } from './catalog.ts';
export { endpointUrl, healthPath, hostPort, withPurpose } from './endpoints.ts';
export { BACKEND, FRONTEND, LB_DRAIN_KEY } from './haproxy.ts';
export { VRRP_DRAIN_TRACK } from './keepalived.ts';
export { buildRing, ringChange, type RingChange, type RingServer, type UriBalance } from './haproxy-ring.ts';
export { birdSecretFile, PATHS, zoneFile } from './paths.ts';
export { PROMETHEUS_HOST } from './prometheus.ts';
export { roas, routingFiles, ROUTING_DIR, type Roa } from './routing.ts';
export { secretFileAccess, secretFileContent } from './secrets.ts';
export { serialGreater } from './serial.ts';
export { activationUnit, serviceExecs, serviceValues } from './unit-spec.ts';
export { nofileSource, type NofileSource } from './units-lb.ts';
