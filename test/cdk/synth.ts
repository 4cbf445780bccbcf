// In-process synth for the CDK tests: the same context as `npx cdk synth` (cdk.json plus what the
// CLI adds), synthesized once per topology, with templates read from the cloud assembly.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp } from '../../lib/cdk/app.ts';
import { hostBundles, sha256, type HostBundle } from '../../lib/cloud/bundle.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { renderTopology } from '../../lib/render/index.ts';
import { load, type Texts } from '../model/fixtures.ts';
import { shippedTexts as shipped } from '../helpers/topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** cdk.json's context, plus the keys the CLI sets itself. */
export function cliContext(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return {
    ...cdkJson.context,
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:enable-asset-metadata': true,
    'aws:cdk:version-reporting': false,
    ...extra,
  };
}

export interface Synth {
  topology: Topology;
  app: App;
  assembly: CloudAssembly;
  bundles: HostBundle[];
  stackNames: string[];
  template(stack: string): Template;
  json(stack: string): Record<string, any>;
}

/** The app with every stack, not synthesized (for cdk-nag's validateScope and error cases). */
export function build(texts: Texts = shipped(), context: Record<string, unknown> = {}): { app: App; topology: Topology; stacks: Map<string, Stack> } {
  const topology = load(texts);
  const app = new App({ stackTraces: false, analyticsReporting: false, context: cliContext(context), outdir: mkdtempSync(join(tmpdir(), 'anycdn-cdk-test-')) });
  return { app, topology, stacks: buildApp(app, topology) };
}

export function synth(texts: Texts = shipped(), context: Record<string, unknown> = {}): Synth {
  const { app, topology, stacks } = build(texts, context);
  const assembly = app.synth();
  const json = (name: string) => assembly.getStackByName(name).template as Record<string, any>;
  return {
    topology,
    app,
    assembly,
    bundles: hostBundles(renderTopology(topology)),
    stackNames: [...stacks.keys()].sort(),
    template: (name) => Template.fromJSON(json(name)),
    json,
  };
}

/** The asset hash CDK derives from a custom hash (AssetHashType.CUSTOM): sha256 of it. */
export function assetHashOf(bundleSha256: string): string {
  return sha256(bundleSha256);
}

/**
 * The template text with every bundle hash replaced by a name, so a snapshot shows the cloud
 * structure and does not churn when a renderer changes a config (the golden files show that).
 */
export function normalized(s: Synth, stack: string): string {
  let text = JSON.stringify(s.json(stack), null, 2);
  for (const b of s.bundles) {
    text = text.replaceAll(b.sha256, `<sha256:${b.host}>`).replaceAll(assetHashOf(b.sha256), `<asset:${b.host}>`);
  }
  return `${text}\n`;
}

/**
 * The user data text of an instance. Every stack has a concrete account and region, so the only
 * token left is the Ref to the host's wait condition handle, shown as ${Ref:<logical id>}.
 */
export function userDataOf(resource: { Properties: { UserData: unknown } }): string {
  const ud = (resource.Properties.UserData as { 'Fn::Base64': unknown })['Fn::Base64'];
  if (typeof ud === 'string') return ud;
  const join = (ud as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`user data is neither a literal nor a join: ${JSON.stringify(ud).slice(0, 200)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: unknown }).Ref;
      if (typeof ref !== 'string') throw new Error(`user data holds more than a Ref: ${JSON.stringify(part)}`);
      return `\${Ref:${ref}}`;
    })
    .join(join[0]);
}

export function readAsset(s: Synth, fileName: string): Buffer {
  return readFileSync(join(s.assembly.directory, fileName));
}
