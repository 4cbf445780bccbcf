// Where a running lab keeps its tree, logs and PIDs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Under /run, the machine's place for the state of running things: the lab's namespaces are
// there already (`ip netns`, /run/netns), a reboot takes the state with them, and only root may
// write there (/var/tmp is world-writable: anyone could plant the directory first). `down`
// removes it. Host views mount a fresh /run of their own and see only the `pids` directory.
export const LAB_DIR = process.env.ANYCDN_LAB_DIR ?? '/run/anycdn-lab';

export interface LabProcess {
  pid: number;
  ns: string;
  /** host name (or 'router:<site>', 'origin'), and the unit or daemon it runs. */
  owner: string;
  unit: string;
}

export interface LabState {
  sitesDir: string;
  namespaces: string[];
  processes: LabProcess[];
  /** host name -> PID of the process holding that host's mount namespace. */
  holders: Record<string, number>;
  startedAt: string;
}

export const labPaths = {
  state: join(LAB_DIR, 'state.json'),
  tree: (site: string, host: string) => join(LAB_DIR, 'tree', site, host),
  logs: (owner: string) => join(LAB_DIR, 'logs', owner),
  /** The PID files of units, written by their supervisors inside the host views (bound there read-write). */
  pids: join(LAB_DIR, 'pids'),
  pidFile: (owner: string, unit: string) => join(LAB_DIR, 'pids', owner, `${unit}.pid`),
  /** Where a host's view is built (hostview.ts's stage): an empty directory, covered in the view's namespace only. */
  view: (owner: string) => join(LAB_DIR, 'views', owner),
  etc: (owner: string) => join(LAB_DIR, 'etc', owner),
  origin: join(LAB_DIR, 'origin'),
  /** The directory of the lab origin at priority `index`: origin, origin2, ... */
  originDir: (index: number) => join(LAB_DIR, index === 0 ? 'origin' : `origin${index + 1}`),
};

export function readState(): LabState | undefined {
  if (!existsSync(labPaths.state)) return undefined;
  return JSON.parse(readFileSync(labPaths.state, 'utf8')) as LabState;
}

export function writeState(s: LabState): void {
  mkdirSync(LAB_DIR, { recursive: true });
  writeFileSync(labPaths.state, `${JSON.stringify(s, null, 2)}\n`);
}
