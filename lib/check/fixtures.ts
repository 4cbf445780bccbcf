// Fixtures, the files a check (or the lab) provides that anycdn does not render, come in two
// kinds: contents to write, and shell commands that create a file inside the host view.
import { secretFileContent, type HostNeeds } from '../render/index.ts';

/** A placeholder that every secret file's format takes: a bird password and a base64 TSIG secret. */
export const CHECK_SECRET = 'cGxhY2Vob2xkZXItZm9yLWNoZWNr';
import { shQuote } from '../render/syntax/shell.ts';
import type { Fixture } from './types.ts';

/**
 * What a host has that anycdn does not render, made up for a check (and the lab): a placeholder
 * for each secret fetched at boot, a throwaway certificate for each the operator installs, and the
 * files units write before their daemon starts. Built from the plan's needs, never from the text.
 */
export function needsFixtures(needs: HostNeeds): Fixture[] {
  return [
    ...needs.secretFiles.map((path) => ({ path, content: secretFileContent(path, CHECK_SECRET) })),
    ...needs.certPaths.map((path) => ({ path, shell: selfSignedPem(path) })),
    ...needs.stateFiles,
  ];
}

/**
 * A shell command that writes a throwaway self-signed certificate + key PEM to `path`. In a
 * subshell, so the redirections the host view appends cannot take over the last command's.
 */
export function selfSignedPem(path: string): string {
  const steps = [
    'd=$(mktemp -d /run/anycdn-cert.XXXXXX)',
    `/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=anycdn-check -days 2 -keyout "$d/key" -out "$d/crt"`,
    `cat "$d/crt" "$d/key" > ${shQuote(path)}`,
  ];
  return `(${steps.join(' && ')})`;
}

export function splitFixtures(fixtures: Fixture[]): { files: { path: string; content: string }[]; commands: { path: string; shell: string }[] } {
  return {
    files: fixtures.filter((x): x is { path: string; content: string } => 'content' in x),
    commands: fixtures.filter((x): x is { path: string; shell: string } => 'shell' in x),
  };
}
