// Graphviz, compiled to WebAssembly (@viz-js/viz): nothing to install on the machine, and the
// same version draws the same bytes everywhere.
import { instance } from '@viz-js/viz';
import type { TopologyGraph } from './topology.ts';

export async function graphSvg(g: TopologyGraph): Promise<string> {
  const viz = await instance();
  const r = viz.render(g, { format: 'svg', engine: 'dot' });
  if (r.status !== 'success') throw new Error(`internal: graphviz could not draw the topology: ${r.errors.map((e) => e.message).join('; ')}`);
  return r.output.endsWith('\n') ? r.output : `${r.output}\n`;
}
