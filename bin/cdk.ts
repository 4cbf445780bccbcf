// The CDK app (cdk.json "app"): loads sites/*.yaml, renders every host and builds one stack per
// site plus anycdn-origin and anycdn-global. Model errors print as FILE:LINE:COL lines, exit 1;
// bad context as one line naming the key, exit 2. aws-cdk-lib's built-in template validation and
// cdk-nag run in CI and on demand only (builtinValidation and nagChecks in lib/cdk/context.ts).
import { App } from 'aws-cdk-lib';
import { InputError, reportLines } from '../lib/model/errors.ts';
import { loadTopology } from '../lib/model/load.ts';
import { buildApp } from '../lib/cdk/app.ts';
import { recordedContext } from '../lib/out/manifest.ts';
import { renderPlans } from '../lib/render/index.ts';
import { builtinValidation, CONTEXT, ContextError, contextString, nagChecks } from '../lib/cdk/context.ts';

const app = new App({ stackTraces: false, builtinCloudFormationValidation: builtinValidation() });
try {
  const topology = loadTopology(contextString(app, CONTEXT.sites, 'sites'), `context ${CONTEXT.sites}`);
  // The bundles carry the zone serials `anycdn render` recorded, so they match out/ and `anycdn plan`.
  buildApp(app, topology, renderPlans(topology, recordedContext(contextString(app, CONTEXT.out, 'out'))), { nag: nagChecks(app) });
} catch (e) {
  if (e instanceof ContextError) {
    console.error(e.message);
    console.error('1 error(s)');
    process.exit(2);
  }
  if (!(e instanceof InputError)) throw e;
  const { lines, count } = reportLines(e.diagnostics);
  for (const line of lines) console.error(line);
  console.error(`${count} error(s)`);
  process.exit(1);
}
app.synth();
