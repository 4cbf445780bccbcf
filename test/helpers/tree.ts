// A directory tree as data, to prove that a refused command changed nothing: every entry by its
// path, with its type and mode, a file's bytes and a symlink's target. lstat throughout: a link
// is recorded as a link, never followed.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export function treeState(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const go = (rel: string) => {
    const path = join(root, rel);
    const st = lstatSync(path);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    if (st.isSymbolicLink()) out[rel || '.'] = `link ${mode} -> ${readlinkSync(path)}`;
    else if (st.isFile()) out[rel || '.'] = `file ${mode} ${readFileSync(path).toString('base64')}`;
    else if (st.isDirectory()) {
      out[rel || '.'] = `dir ${mode}`;
      for (const name of readdirSync(path).sort()) go(rel ? `${rel}/${name}` : name);
    } else out[rel || '.'] = `${st.isFIFO() ? 'fifo' : 'other'} ${mode}`;
  };
  go('');
  return out;
}
