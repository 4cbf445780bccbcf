// anycdn graph: the topology as an SVG picture (sites, hosts and roles, VIPs, upstreams and their
// ASNs, the anycast prefixes, shield and origin; with --lab the lab's routers and clients).
import { renameSync, writeFileSync } from 'node:fs';
import { fsReason, InputError } from '../model/errors.ts';
import { loadTopology } from '../model/load.ts';
import { planLab } from '../lab/plan.ts';
import { graphSvg } from '../graph/svg.ts';
import { topologyGraph } from '../graph/topology.ts';
import { byoipFromCdkJson } from './byoip.ts';
import { EXIT, type Io } from './report.ts';

export async function graphCommand(opts: { sites: string; out: string; lab?: boolean }, io: Io): Promise<number> {
  const t = loadTopology(opts.sites, '--sites');
  const svg = await graphSvg(topologyGraph(t, opts.lab ? planLab(t) : undefined, { byoip: byoipFromCdkJson(opts.sites) }));
  if (opts.out === '-') {
    io.out(svg.trimEnd());
    return EXIT.ok;
  }
  // Written beside the target, then renamed: a reader never sees half a picture.
  const tmp = `${opts.out}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, svg);
    renameSync(tmp, opts.out);
  } catch (e) {
    if (typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
    throw new InputError([{ file: opts.out, line: 1, col: 1, message: `--out: cannot write: ${fsReason(e)}; check the directory and its permissions, or pass another --out` }]);
  }
  io.out(`drew ${t.sites.length} sites to ${opts.out}`);
  return EXIT.ok;
}
