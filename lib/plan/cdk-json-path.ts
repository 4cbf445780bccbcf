// Where the project's cdk.json is: the nearest at or above the sites directory, else the
// package's own. On its own, without cdk-json.ts's construct imports, so render and graph (which
// read anycdn:global-byoip from it) load no CDK.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

/** The cdk.json of the project holding `sitesDir`, else the package's; undefined when neither has one. */
export function findCdkJson(sitesDir: string, packageRoot: string = PACKAGE_ROOT): string | undefined {
  for (let dir = resolve(sitesDir); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'cdk.json'))) return join(dir, 'cdk.json');
    if (dir === dirname(dir)) break;
  }
  const own = join(packageRoot, 'cdk.json');
  return existsSync(own) ? own : undefined;
}

