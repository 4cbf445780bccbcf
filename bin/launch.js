// Starts an entry point compiled into dist/ by `npm run build`, which `npm ci` runs as the
// package's `prepare` script. When dist/ is missing, or older than any source file it was built
// from (a checkout or an edit since the last build), it runs the TypeScript source through tsx
// instead, and says so on stderr: slower, never stale. A compiled `.cjs` (the CDK app, see
// bin/build.ts) is loaded with require(), so its own requires of aws-cdk-lib stay lazy, and with
// a V8 code cache of every CommonJS module it loads in dist/.v8-cache (see compile-cache.js;
// `npm run build` empties it with the rest of dist/).
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { enableCompileCache } from './compile-cache.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function launch(name, file = `${name}.js`) {
  const compiled = join(ROOT, 'dist', file);
  const why = whyNotCompiled(compiled);
  if (!why && file.endsWith('.cjs')) {
    enableCompileCache(join(ROOT, 'dist', '.v8-cache'));
    return createRequire(import.meta.url)(compiled);
  }
  if (!why) return import(pathToFileURL(compiled).href);
  process.stderr.write(`${name}: ${why}; running the TypeScript source through tsx (\`npm run build\` makes it start fast)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(ROOT, 'bin', `${name}.ts`)).href);
}

/** Why dist/ cannot be used, or undefined when it is there and newer than every source it holds. */
function whyNotCompiled(compiled) {
  let built;
  let inputs;
  try {
    built = statSync(compiled).mtimeMs;
    inputs = Object.keys(JSON.parse(readFileSync(join(ROOT, 'dist', 'meta.json'), 'utf8')).inputs);
  } catch {
    return 'dist/ is missing';
  }
  for (const input of inputs) {
    if (input.includes('node_modules/')) continue; // a package's files (../node_modules when it is a symlink)
    let changed;
    try {
      changed = statSync(join(ROOT, input)).mtimeMs;
    } catch {
      return `dist/ was built from ${input}, which is gone`;
    }
    if (changed > built) return `dist/ is older than ${input}`;
  }
  return undefined;
}
