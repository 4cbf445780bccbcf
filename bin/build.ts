// `npm run build` (run by `npm ci` as the `prepare` script): compiles the CLI and the CDK app into
// dist/ with esbuild, so `npx anycdn` and `cdk synth` start as plain JavaScript (bin/launch.js
// falls back to tsx when dist/ is missing or stale). TypeScript stays the only source.
//
// - The CLI is one ESM bundle split into chunks: each CLI command's module is its own chunk,
//   loaded only when that command runs (lib/cli/main.ts imports them lazily).
// - The CDK app is one CommonJS file, dist/cdk.cjs (CDK_APP_BUILD). aws-cdk-lib is CommonJS and
//   loads its submodules lazily through require(); an ESM import of one builds the module's whole
//   namespace, which loads every file of it (about 0.7 s of CPU for the modules the app uses, 0.1 s
//   through require). The bench compiles its bare CDK app with the same options.
// - The small libraries (commander, zod, yaml, ipaddr.js) are bundled in: loading one file is
//   faster than resolving hundreds. aws-cdk-lib, constructs, cdk-nag, @aws-cdk/* and Pulumi stay
//   external (large, and loaded only by the CDK app and the Pulumi program).
// - dist/meta.json lists every source file of both; launch.js compares their times with it.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
export const EXTERNAL = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag', '@aws-cdk/*', '@pulumi/*', 'tsx', 'tsx/*', 'esbuild'];

/**
 * How a CDK app is compiled: one CommonJS file, its packages external. `import.meta.url` (the
 * package root is found from it, lib/package-root.ts) becomes the file's own URL.
 */
export const CDK_APP_BUILD: BuildOptions = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  define: { 'import.meta.url': '__anycdnFileUrl' },
  banner: { js: "const __anycdnFileUrl = require('node:url').pathToFileURL(__filename).href;" },
};

export async function buildDist(outdir: string = join(ROOT, 'dist')): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  const [cli, cdk] = await Promise.all([
    build({
      absWorkingDir: ROOT,
      entryPoints: ['bin/anycdn.ts'],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: EXTERNAL,
      outdir,
      chunkNames: 'chunks/[name]-[hash]',
      metafile: true,
      write: true,
      logLevel: 'warning',
      // Bundled CommonJS libraries call require() for Node's own modules.
      banner: { js: "import { createRequire as __anycdnRequire } from 'node:module'; const require = __anycdnRequire(import.meta.url);" },
    }),
    build({ ...CDK_APP_BUILD, absWorkingDir: ROOT, entryPoints: ['bin/cdk.ts'], external: EXTERNAL, outfile: join(outdir, 'cdk.cjs'), metafile: true, write: true }),
  ]);
  const meta: Metafile = { inputs: { ...cli.metafile.inputs, ...cdk.metafile.inputs }, outputs: { ...cli.metafile.outputs, ...cdk.metafile.outputs } };
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(meta));
}

if (process.argv[1] === import.meta.filename) await buildDist();
