// Fixtures, the files a check (or the lab) provides that anycdn does not render, come in two
// kinds: contents to write, and throwaway certificates, made with openssl before the host view
// is built (the view keeps the rendered tree read-only, so nothing is made inside it).
import { secretFileContent, type HostNeeds } from '../render/index.ts';
import { run } from '../run.ts';

/** A placeholder that every secret file's format takes: a bird password and a base64 TSIG secret. */
export const CHECK_SECRET = 'cGxhY2Vob2xkZXItZm9yLWNoZWNr';
import type { Fixture } from './types.ts';

/**
 * What a host has that anycdn does not render, made up for a check (and the lab): a placeholder
 * for each secret fetched at boot, a throwaway certificate for each the operator installs, and the
 * files units write before their daemon starts. Built from the plan's needs, never from the text.
 */
export function needsFixtures(needs: HostNeeds): Fixture[] {
  return [
    ...needs.secretFiles.map((path) => ({ path, content: secretFileContent(path, CHECK_SECRET) })),
    ...needs.certPaths.map((path) => ({ path, certificate: true as const })),
    ...needs.stateFiles,
  ];
}

export function splitFixtures(fixtures: Fixture[]): { files: { path: string; content: string }[]; certificates: string[] } {
  return {
    files: fixtures.filter((x): x is { path: string; content: string } => 'content' in x),
    certificates: fixtures.filter((x) => 'certificate' in x).map((x) => x.path),
  };
}

/**
 * A throwaway self-signed certificate and its key in one PEM (certificate first, as haproxy's
 * `crt` takes it), from openssl's standard output: nothing is written to disk.
 */
export async function throwawayPem(): Promise<string> {
  const r = await run(
    '/usr/bin/openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=anycdn-check', '-days', '2', '-keyout', '-', '-out', '-'],
    { timeoutMs: 20_000 },
  );
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/.exec(r.stdout)?.[0];
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/.exec(r.stdout)?.[0];
  if (r.code !== 0 || !cert || !key) {
    throw new Error(r.code === 127 ? 'cannot make a throwaway certificate: /usr/bin/openssl not found; install the Debian package openssl' : `cannot make a throwaway certificate: openssl exit ${r.code}: ${r.stderr.trim()}`);
  }
  return cert + key;
}
