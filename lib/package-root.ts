// The package's own directory, found from this module's location. Files read at run time (the
// health checker program, package.json) resolve from it, so they are found the same way from the
// TypeScript source under lib/ and from the compiled bundle under dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dir === dirname(dir)) throw new Error(`anycdn: no package.json above ${from}; reinstall the package`);
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
