// The plan as data: what `anycdn plan --json` prints (schema/plan.schema.json) and what the text
// output is formatted from.
import type { Impact } from './classify.ts';
import type { ImpactClass } from './impact.ts';

export type { Impact };

/** A rendered tree: <site>/<host>/<absolute path on the host> to the file. */
export type Tree = Map<string, TreeFile>;

export interface TreeFile {
  content: string;
  mode: number;
  soaSerial?: number | undefined;
}

export type Status = 'added' | 'removed' | 'changed';

export interface FileChange {
  /** Absolute path on the host. */
  path: string;
  status: Status;
  /** Octal modes ("0644") when they differ (or the file is new or gone). */
  modeBefore?: string;
  modeAfter?: string;
  /** Unified diff of the contents ('' when only the mode changed). */
  diff: string;
}

export interface DaemonChange {
  /** The systemd unit that reads these files ("bird", "nginx"), or "sysctl". */
  unit: string;
  status: Status;
  impact: ImpactClass;
  impacts: Impact[];
  files: FileChange[];
}

export interface HostChange {
  host: string;
  status: Status;
  impact: ImpactClass;
  /** Impacts of the host as a whole: added, removed, its instance restarted by a new bundle. */
  impacts: Impact[];
  daemons: DaemonChange[];
  /** Only for added and removed hosts: their files (no diffs). */
  files: string[];
}

export interface SiteChange {
  site: string;
  platform: 'metal' | 'aws' | 'unknown';
  hosts: HostChange[];
}

export interface CloudImpact extends Impact {
  /** Logical id and type of the resource ("sinlb1Instance AWS::EC2::Instance"), or "(stack)". */
  resource: string;
}

export interface CloudChange {
  stack: string;
  impact: ImpactClass;
  /** Replacements and broadenings first. */
  impacts: CloudImpact[];
  /** @aws-cdk/cloudformation-diff's text, with asset hashes and bootstrap blobs taken out. */
  diff: string;
}

export interface Step {
  n: number;
  title: string;
  site: string | null;
  hosts: string[];
  impact: ImpactClass;
  classes: ImpactClass[];
  /** Drain the host first (`anycdn drain <site>/<host>`), undrain after. */
  drainFirst: boolean;
  actions: string[];
}

export interface Plan {
  schemaVersion: 1;
  baseline: { kind: 'out' | 'dir' | 'git'; source: string; commit: string | null };
  changes: boolean;
  summary: { sites: number; hosts: number; files: number; cloudStacks: number };
  warnings: string[];
  /** The daemon versions the impact classes assume (Debian 12). */
  assumedVersions: Record<string, string>;
  sites: SiteChange[];
  cloud: CloudChange[];
  /** Why the cloud stacks were not compared, when they were not. */
  cloudSkipped: string | null;
  /** The files of out/routing/ that change (ROAs, IRR objects): filed before anything else. */
  routing: FileChange[];
  steps: Step[];
}
