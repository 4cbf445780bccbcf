// `npm run build` (run by `npm ci` as the `prepare` script): compiles the CLI and the CDK app into
// dist/ with esbuild, so `npx anycdn` and `cdk synth` start as plain JavaScript (bin/launch.js
// falls back to tsx when dist/ is missing or stale). TypeScript stays the only source.
//
// - One ESM bundle per entry, split into chunks: each CLI command's module is its own chunk,
//   loaded only when that command runs (lib/cli/main.ts imports them lazily).
// - The small libraries (commander, zod, yaml, ipaddr.js) are bundled in: loading one file is
//   faster than resolving hundreds. aws-cdk-lib, constructs, cdk-nag, @aws-cdk/* and Pulumi stay
//   external (large, and loaded only by the CDK app and the Pulumi program).
// - dist/meta.json lists every source file of the bundle; launch.js compares their times with it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
export const EXTERNAL = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag', '@aws-cdk/*', '@pulumi/*', 'tsx', 'tsx/*', 'esbuild'];

export async function buildDist(outdir: string = join(ROOT, 'dist')): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['bin/anycdn.ts', 'bin/cdk.ts'],
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
  }).then(async (r) => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(outdir, 'meta.json'), JSON.stringify(r.metafile));
  });
}

if (process.argv[1] === import.meta.filename) await buildDist();
