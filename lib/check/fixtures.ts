// Fixtures, the files a check (or the lab) provides that anycdn does not render, come in two
// kinds: contents to write, and shell commands that create a file inside the host view.
import type { Fixture } from './types.ts';

export function splitFixtures(fixtures: Fixture[]): { files: { path: string; content: string }[]; commands: { path: string; shell: string }[] } {
  return {
    files: fixtures.filter((x): x is { path: string; content: string } => 'content' in x),
    commands: fixtures.filter((x): x is { path: string; shell: string } => 'shell' in x),
  };
}
