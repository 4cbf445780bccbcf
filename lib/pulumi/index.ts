// Pulumi.yaml's entry point: reads the stack config, loads the sites and builds the stack's
// resources. Model and config errors print one per line (FILE:LINE:COL for the model).
import * as pulumi from '@pulumi/pulumi';
import { InputError, reportLines } from '../model/errors.ts';
import { loadTopology } from '../model/load.ts';
import { readSettings } from './config.ts';
import { anycdnStack } from './program.ts';
import { recordedContext } from '../out/manifest.ts';
import { renderPlans } from '../render/index.ts';

export default async function main(): Promise<Record<string, unknown>> {
  const settings = readSettings(pulumi.getStack(), (key) => {
    const [ns, name] = key.split(':') as [string, string];
    return new pulumi.Config(ns).get(name);
  });
  try {
    const topology = loadTopology(settings.sitesDir);
    // The bundles carry the zone serials `anycdn render` recorded, as the CDK app's do.
    return anycdnStack(topology, settings, renderPlans(topology, recordedContext(settings.outDir)));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const { lines, count } = reportLines(e.diagnostics);
    throw new Error([...lines, `${count} error(s)`].join('\n'));
  }
}
