// A V8 code cache for the CommonJS modules a process loads: what Node 22's
// module.enableCompileCache() does, for Node 20, which has none (it is used when present). The CDK
// app loads about 8 MB of aws-cdk-lib's JavaScript, and compiling it is most of what a synth costs
// beyond the bare CDK app's (bench "synth"); with the cache, V8 reads the compiled code back instead.
//
// Each module's cache is keyed by the Node version, its file name and its source text, so an edit
// or an upgrade never reads a stale entry; V8 also rejects data built by another V8 or with other
// flags, and such a module is simply compiled again. Entries are written once, at exit, through a
// temporary file and a rename (parallel synths may write the same entry). Any failure to compile
// through the cache falls back to Node's own compile, so errors read as they always do. So does a
// module whose text holds `import(`: on Node 20 a script compiled from cached data loses its
// dynamic import callback (aws-cdk-lib's modules have none; a method named import is skipped too).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

/** Caches compiled CommonJS modules under `dir` (created when first written). */
export function enableCompileCache(dir) {
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache(dir);
    return;
  }
  const pending = [];
  const compile = Module.prototype._compile;
  Module.prototype._compile = function cachedCompile(content, filename) {
    if (content.includes('import(')) return compile.call(this, content, filename);
    let script;
    try {
      // sha1: a cache key, not a signature; it hashes every module's source on each start.
      const file = join(dir, createHash('sha1').update(`${process.version}\0${filename}\0`).update(content).digest('hex'));
      let cachedData;
      try {
        cachedData = readFileSync(file);
      } catch {
        cachedData = undefined;
      }
      script = new vm.Script(Module.wrap(content), { filename, cachedData });
      if (cachedData === undefined || script.cachedDataRejected) pending.push({ script, file });
    } catch {
      return compile.call(this, content, filename);
    }
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, makeRequire(this), this, filename, dirname(filename));
  };
  process.once('exit', () => {
    if (pending.length === 0) return;
    try {
      mkdirSync(dir, { recursive: true });
      for (const { script, file } of pending) {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, file);
      }
    } catch {
      // A read-only or full disk: the next start compiles again.
    }
  });
}

/** The `require` a CommonJS module sees, as Node makes it. */
function makeRequire(mod) {
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}
