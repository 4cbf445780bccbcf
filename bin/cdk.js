// The CDK app of cdk.json: the compiled bin/cdk.ts (dist/cdk.js); see launch.js.
import { launch } from './launch.js';

await launch('cdk');
