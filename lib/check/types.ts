import type { Diagnostic } from '../model/errors.ts';
import type { CheckKind, RenderedFile } from '../render/types.ts';

/** A file a check needs that anycdn does not render: a placeholder secret, a throwaway cert. */
export type Fixture = { path: string; content: string } | { path: string; certificate: true };

/** One daemon's own checker, run inside a host view (see hostview.ts). */
export interface Checker {
  kind: CheckKind;
  /** Absolute path of the binary the command runs. */
  binary: string;
  /** The Debian package that installs it. */
  debianPackage: string;
  /** The shell command that checks `file` (by its path on the host). */
  command(file: RenderedFile): string;
  /** The checker's output as diagnostics on the rendered file (empty when it passed). */
  parse(output: string, exitCode: number, file: RenderedFile): Diagnostic[];
  /**
   * The result depends on the file's bytes and path alone, not on the rest of the host view
   * (`sh -n`, `node --check`): a file shipped identically to many hosts is checked once.
   */
  contentOnly?: boolean;
  /**
   * Checks all of a host's files of this kind in one process (`systemd-analyze verify` takes many
   * units). `owner` says which file an output line is about; a line about none is charged to all.
   */
  many?: { command(files: RenderedFile[]): string; owner(line: string, files: RenderedFile[]): RenderedFile | undefined };
}

/** What a check run reports: diagnostics and what was run. */
export interface CheckReport {
  diagnostics: Diagnostic[];
  checked: { file: RenderedFile; checker: string; ok: boolean }[];
}
