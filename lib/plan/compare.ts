// The core of `anycdn plan`: the baseline's tree, the hosts' plans of the model being planned
// (and the cloud diffs) in, a Plan out. The "after" side is read as the render left it: its files,
// its units as data, its zones' serials, never parsed back. Pure: no I/O, so the tests feed it
// directly and the CLI only gathers the inputs.
import { createTwoFilesPatch } from 'diff';
import { modeString } from '../out/manifest.ts';
import { byCodePoint } from '../model/order.ts';
import type { Topology } from '../model/schema.ts';
import type { HostPlan } from '../render/index.ts';
import { serialProblem, type Impact, type Serials } from './classify.ts';
import { ASSUMED_VERSIONS, IMPACTS, worst, type ImpactClass } from './impact.ts';
import { applySteps } from './order.ts';
import { routingChanges, routingStep, type RoutingInput } from './routing.ts';
import { ownerOf, unitFileOf } from './owners.ts';
import type { CloudChange, DaemonChange, FileChange, HostChange, Plan, SiteChange, Tree, TreeFile } from './types.ts';

export interface PlanInput {
  baseline: Plan['baseline'];
  before: Tree;
  /** Every plan `render` would write (outputPlans). */
  after: HostPlan[];
  /** The model being planned: platforms, roles, VRRP priorities and the shield order the steps. */
  topology: Topology;
  /** Per-stack cloud diffs, or why there are none. */
  cloud: CloudChange[] | string;
  warnings: string[];
  /** out/routing/ before and after: when it changes, filing it is the first step. */
  routing?: RoutingInput;
}

/** The tree of a render, keyed like `render`'s output. */
export function treeOf(plans: HostPlan[]): Tree {
  const t: Tree = new Map();
  for (const p of plans) for (const f of p.files) t.set(`${p.site}/${p.host}${f.path}`, { content: f.content, mode: f.mode, soaSerial: f.soaSerial });
  return t;
}

/** "<site>/<host>" and the path on the host, from a tree key. */
function split(key: string): { host: string; path: string } {
  const i = key.indexOf('/', key.indexOf('/') + 1);
  return { host: key.slice(0, i), path: key.slice(i) };
}

/** A zone's serial as recorded with it; none for an empty file (gone, or unreadable in the baseline). */
const serialOf = (f: TreeFile | undefined) => (f && f.content !== '' ? f.soaSerial : undefined);

/** One side of a host: its files by path, and the units it runs. */
interface HostSide {
  files: Map<string, TreeFile>;
  units: Set<string>;
}

/** The baseline's hosts: a tree read from disk (or rendered), whose daemons come and go with their unit files. */
function treeHosts(tree: Tree): Map<string, HostSide> {
  const out = new Map<string, HostSide>();
  for (const [k, f] of tree) {
    const { host, path } = split(k);
    if (!out.has(host)) out.set(host, { files: new Map(), units: new Set() });
    const side = out.get(host)!;
    side.files.set(path, f);
    const unit = unitFileOf(path);
    if (unit) side.units.add(unit);
  }
  return out;
}

/** The planned hosts, from their plans: files as rendered, units as data. */
function planHosts(plans: HostPlan[]): Map<string, HostSide> {
  const out = new Map<string, HostSide>();
  for (const p of plans) {
    if (p.files.length === 0) continue;
    const files = new Map(p.files.map((f) => [f.path, { content: f.content, mode: f.mode, soaSerial: f.soaSerial }] as const));
    out.set(`${p.site}/${p.host}`, { files, units: new Set(p.units.map((u) => u.name)) });
  }
  return out;
}

export function unifiedDiff(label: string, before: string, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(`a/${label}`, `b/${label}`, before, after, undefined, undefined, { context: 3 });
  // Drop the "===" banner line the library starts with; keep ---/+++ and the hunks.
  return patch.replace(/^=+\n/, '').replace(/^Index: .*\n/, '');
}

function fileChange(label: string, path: string, b?: { content: string; mode: number }, a?: { content: string; mode: number }): FileChange | undefined {
  if (b && a && b.content === a.content && b.mode === a.mode) return undefined;
  const status = !b ? 'added' : !a ? 'removed' : 'changed';
  const fc: FileChange = { path, status, diff: unifiedDiff(label, b?.content ?? '', a?.content ?? '') };
  if (!b || !a || b.mode !== a.mode) {
    if (b) fc.modeBefore = modeString(b.mode);
    if (a) fc.modeAfter = modeString(a.mode);
  }
  return fc;
}

function hostChange(key: string, platform: SiteChange['platform'], bSide: HostSide | undefined, aSide: HostSide | undefined, warnings: string[]): HostChange | undefined {
  const name = key.slice(key.indexOf('/') + 1);
  if (!bSide || !aSide) {
    const files = [...(aSide ?? bSide)!.files.keys()].sort(byCodePoint);
    const impacts: Impact[] = aSide ? [{ class: 'host-add', reason: `${files.length} files` }] : [{ class: 'host-remove', reason: `${files.length} files` }];
    return { host: name, status: aSide ? 'added' : 'removed', impact: worst(impacts.map((i) => i.class)), impacts, daemons: [], files };
  }
  const b = bSide.files;
  const a = aSide.files;
  const paths = [...new Set([...b.keys(), ...a.keys()])].sort(byCodePoint);
  // A daemon comes or goes with its unit.
  const unitsBefore = bSide.units;
  const unitsAfter = aSide.units;
  const daemons = new Map<string, DaemonChange>();
  for (const path of paths) {
    const fc = fileChange(`${key}${path}`, path, b.get(path), a.get(path));
    if (!fc) continue;
    const owner = ownerOf(path);
    const unit = owner?.unit ?? 'other';
    if (!daemons.has(unit)) {
      const status = unitsAfter.has(unit) && !unitsBefore.has(unit) ? 'added' : unitsBefore.has(unit) && !unitsAfter.has(unit) ? 'removed' : 'changed';
      daemons.set(unit, { unit, status, impact: 'file-only', impacts: [], files: [] });
    }
    const d = daemons.get(unit)!;
    d.files.push(fc);
    if (d.status !== 'changed') continue;
    const before = b.get(path)?.content ?? '';
    const after = a.get(path)?.content ?? '';
    const serials: Serials = { before: serialOf(b.get(path)), after: serialOf(a.get(path)) };
    if (!owner) d.impacts.push({ class: 'file-only', reason: `${path} is not a file anycdn renders; review it by hand` });
    else d.impacts.push(...owner.classify(before, after, serials));
    if (fc.modeBefore !== undefined && fc.modeAfter !== undefined) d.impacts.push({ class: 'file-only', reason: `${path}: mode ${fc.modeBefore} -> ${fc.modeAfter}` });
    const serial = serialProblem(before, after, serials);
    if (serial) warnings.push(`${key}${path}: ${serial}`);
  }
  for (const d of daemons.values()) {
    if (d.status === 'added') d.impacts = [{ class: 'daemon-add', reason: `${d.unit} starts on this host` }];
    if (d.status === 'removed') d.impacts = [{ class: 'daemon-remove', reason: `${d.unit} stops on this host` }];
    if (d.impacts.length === 0) d.impacts.push({ class: 'file-only', reason: 'comments or layout only' });
    d.impact = worst(d.impacts.map((i) => i.class));
  }
  if (daemons.size === 0) return undefined;
  const list = [...daemons.values()].sort((x, y) => byCodePoint(x.unit, y.unit));
  const impacts: Impact[] =
    platform === 'aws' ? [{ class: 'cloud-interruption', reason: 'its bundle changes: CloudFormation updates the UserData, stops and starts the instance, and the bootstrap applies the bundle on boot' }] : [];
  return { host: name, status: 'changed', impact: worst([...impacts, ...list].map((x) => ('class' in x ? x.class : x.impact))), impacts, daemons: list, files: [] };
}

export function buildPlan(input: PlanInput): Plan {
  const warnings = [...input.warnings];
  const platformOf = new Map(input.topology.sites.map((s) => [s.id, s.platform] as const));
  const before = treeHosts(input.before);
  const after = planHosts(input.after);
  const hostKeys = [...new Set([...before.keys(), ...after.keys()])].sort(byCodePoint);
  const sites = new Map<string, SiteChange>();
  let files = 0;
  for (const key of hostKeys) {
    const site = key.slice(0, key.indexOf('/'));
    const platform = platformOf.get(site) ?? 'unknown';
    const h = hostChange(key, platform, before.get(key), after.get(key), warnings);
    if (!h) continue;
    files += h.files.length + h.daemons.reduce((n, d) => n + d.files.length, 0);
    if (!sites.has(site)) sites.set(site, { site, platform, hosts: [] });
    sites.get(site)!.hosts.push(h);
  }
  const siteList = [...sites.values()];
  const cloud = typeof input.cloud === 'string' ? [] : input.cloud;
  const hosts = siteList.reduce((n, s) => n + s.hosts.length, 0);
  const used = new Set<ImpactClass>([
    ...siteList.flatMap((s) => s.hosts.flatMap((h) => [...h.impacts.map((i) => i.class), ...h.daemons.flatMap((d) => d.impacts.map((i) => i.class))])),
    ...cloud.flatMap((c) => c.impacts.map((i) => i.class)),
  ]);
  const routing = input.routing ? routingChanges(input.routing) : [];
  const first = routingStep(routing, input.routing?.byoip ?? false);
  const assumedVersions: Record<string, string> = {};
  for (const c of [...used].sort(byCodePoint)) {
    const info = IMPACTS[c];
    if ('assumes' in info) assumedVersions[info.assumes] = ASSUMED_VERSIONS[info.assumes];
  }
  return {
    schemaVersion: 1,
    baseline: input.baseline,
    changes: hosts > 0 || cloud.length > 0 || routing.length > 0,
    summary: { sites: siteList.length, hosts, files, cloudStacks: cloud.length },
    warnings,
    assumedVersions,
    sites: siteList,
    cloud,
    cloudSkipped: typeof input.cloud === 'string' ? input.cloud : null,
    routing,
    steps: [...(first ? [first] : []), ...applySteps(input.topology, siteList, cloud)].map((st, i) => ({ ...st, n: i + 1 })),
  };
}
