// anycdn render: load the model, render every host, replace --out atomically.
import { loadTopology } from '../model/load.ts';
import { renderTopology } from '../render/index.ts';
import { writeTreeAtomically } from '../out/write.ts';
import { EXIT, type Io } from './report.ts';

export async function renderCommand(opts: { sites: string; out: string }, io: Io): Promise<number> {
  const topology = loadTopology(opts.sites);
  const files = renderTopology(topology);
  await writeTreeAtomically(opts.out, files);
  const hosts = new Set(files.map((f) => `${f.site}/${f.host}`)).size;
  io.out(`rendered ${files.length} files for ${hosts} hosts in ${topology.sites.length} sites to ${opts.out}`);
  return EXIT.ok;
}
