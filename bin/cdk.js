// The CDK app of cdk.json: the compiled bin/cdk.ts (dist/cdk.cjs, CommonJS: see bin/build.ts); see launch.js.
import { launch } from './launch.js';

await launch('cdk', 'cdk.cjs');
