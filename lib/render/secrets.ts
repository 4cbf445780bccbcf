// The secrets fetcher: turns each secret reference of the model into the file a daemon reads,
// under /run (tmpfs), at boot, on the host. The rendered tree holds only the references, never a
// secret. dns hosts: a bird include per BGP password, and with acme the Knot `key:` section of
// the TSIG key the issuer signs its challenge updates with; the issuer: that key for knsupdate.
import { dirname } from 'node:path';
import { acmeIssuer } from './acme-facts.ts';
import type { Peer } from '../model/schema.ts';
import { fileText, headerLines } from './header.ts';
import { birdSecretFile, PATHS } from './paths.ts';
import { passwordFile } from './syntax/bird.ts';
import { shQuote } from './syntax/shell.ts';
import { hasRole } from '../model/facts.ts';
import type { Renderer } from './types.ts';
import type { Host, Site, Topology } from '../model/schema.ts';

/** printf's format for a secret file: bird's own password statement, with `%s` for the secret. */
const PRINTF_FORMAT = passwordFile('%s').replace(/\n$/, '\\n');

/** The TSIG key's name and algorithm, in Knot's config and in knsupdate's key file alike. */
export const ACME_TSIG = { name: 'anycdn-acme', algorithm: 'hmac-sha256' } as const;

/** A Knot `key:` section holding the TSIG secret (base64), as knot.conf includes it. */
export function knotKeyFile(secret: string): string {
  return `key:\n  - id: ${ACME_TSIG.name}\n    algorithm: ${ACME_TSIG.algorithm}\n    secret: ${secret}\n`;
}

/** knsupdate's key file (`-k`): algorithm:name:secret. */
export function tsigKeyFile(secret: string): string {
  return `${ACME_TSIG.algorithm}:${ACME_TSIG.name}:${secret}\n`;
}

/**
 * Group and mode of a secret file, and of its directory where that is its own: Knot's include is
 * read by knotd (user knot) in a directory of its own; every other file is root's alone.
 */
export function secretFileAccess(path: string): { group: string; mode: number; dirMode?: number } {
  return path === PATHS.knotAcmeKey ? { group: 'knot', mode: 0o640, dirMode: 0o750 } : { group: 'root', mode: 0o600 };
}

/**
 * What a secret file holds for a given secret, by its path: a check or the lab writes a
 * placeholder or its own secret in exactly the format the fetcher would.
 */
export function secretFileContent(path: string, secret: string): string {
  if (path === PATHS.knotAcmeKey) return knotKeyFile(secret);
  if (path === PATHS.acmeTsigKey) return tsigKeyFile(secret);
  return passwordFile(secret);
}

/**
 * `fetch REF`: prints the secret a reference points at (ssm:/name, secretsmanager:name,
 * file:/path). Shared by every script that reads a reference (this one, anycdn-cert-fetch and the
 * issuer's renewal), so a reference means the same everywhere.
 */
export function fetchFunction(program: string): string[] {
  return [
    '# fetch REF: print the secret a reference points at (ssm:/name, secretsmanager:name, file:/path).',
    'fetch() {',
    '\tcase "$1" in',
    '\tssm:*) aws ssm get-parameter --with-decryption --name "${1#ssm:}" --query Parameter.Value --output text ;;',
    '\tsecretsmanager:*) aws secretsmanager get-secret-value --secret-id "${1#secretsmanager:}" --query SecretString --output text ;;',
    '\tfile:*) cat "${1#file:}" ;;',
    `\t*) echo "${program}: unknown reference $1" >&2; return 1 ;;`,
    '\tesac',
    '}',
  ];
}

/** The TSIG key goes to the dns hosts (Knot checks the issuer's updates) and to the issuer. */
function tsigFiles(t: Topology, site: Site, host: Host): string[] {
  if (!t.cdn.acme) return [];
  return [...(hasRole(host, 'dns') ? [PATHS.knotAcmeKey] : []), ...(acmeIssuer(t)?.host.name === host.name ? [PATHS.acmeTsigKey] : [])];
}

/** Whether the host fetches secrets at boot (anycdn-secrets.service), and which files it writes. */
export function secretFiles(t: Topology, site: Site, host: Host): string[] {
  const bird = hasRole(host, 'dns') ? site.bgp.peers.filter((p) => p.passwordRef).map((p) => birdSecretFile(p.name)) : [];
  return [...bird, ...tsigFiles(t, site, host)];
}

export const renderSecrets: Renderer = (t, site, host) => {
  const peers = hasRole(host, 'dns') ? site.bgp.peers.filter((p): p is Peer & { passwordRef: string } => p.passwordRef !== undefined) : [];
  const tsig = tsigFiles(t, site, host);
  if (peers.length === 0 && tsig.length === 0) return [];
  const lines = [
    '#!/bin/sh',
    ...headerLines(t, site.id, '#'),
    'set -eu',
    'umask 077',
    `mkdir -p ${shQuote(PATHS.birdSecretsDir)}`,
    '',
    ...fetchFunction('anycdn-fetch-secrets'),
  ];
  if (peers.length > 0) {
    lines.push(
      '',
      '# bird_password REF FILE: write `password "...";`, refusing what a bird string cannot carry (as quote() does).',
      'bird_password() {',
      '\tsecret=$(fetch "$1")',
      '\tcase "$secret" in',
      `\t*'"'* | *\\\\* | *[[:cntrl:]]* | '') echo "anycdn-fetch-secrets: $1 is empty or holds a quote, backslash or control character, which bird cannot carry" >&2; return 1 ;;`,
      '\tesac',
      `\tprintf ${shQuote(PRINTF_FORMAT)} "$secret" > "$2.tmp" && mv "$2.tmp" "$2"`,
      '}',
      '',
      ...peers.map((p) => `bird_password ${shQuote(p.passwordRef)} ${shQuote(birdSecretFile(p.name))}`),
    );
  }
  if (tsig.length > 0) {
    const ref = t.cdn.acme!.tsigKeyRef;
    lines.push(
      '',
      '# The TSIG secret of the ACME challenge updates: base64 only, so it can go into either file as is.',
      `tsig=$(fetch ${shQuote(ref)})`,
      'case "$tsig" in',
      `*[!A-Za-z0-9+/=]* | '') echo ${shQuote(`anycdn-fetch-secrets: ${ref} is empty or not base64 (a TSIG secret, such as the output of: openssl rand -base64 32)`)} >&2; exit 1 ;;`,
      'esac',
    );
    if (tsig.includes(PATHS.knotAcmeKey)) {
      // knotd runs as knot and reads the include itself: a directory of its own, never the BGP passwords'.
      const dir = dirname(PATHS.knotAcmeKey);
      const tmp = `${PATHS.knotAcmeKey}.tmp`;
      lines.push(
        `install -d -m 0755 ${shQuote(dirname(dir))} && install -d -o root -g knot -m 0750 ${shQuote(dir)}`,
        `printf 'key:\\n  - id: %s\\n    algorithm: %s\\n    secret: %s\\n' ${ACME_TSIG.name} ${ACME_TSIG.algorithm} "$tsig" > ${shQuote(tmp)}`,
        `chgrp knot ${shQuote(tmp)} && chmod 640 ${shQuote(tmp)} && mv ${shQuote(tmp)} ${shQuote(PATHS.knotAcmeKey)}`,
      );
    }
    if (tsig.includes(PATHS.acmeTsigKey)) {
      lines.push(`printf '%s:%s:%s\\n' ${ACME_TSIG.algorithm} ${ACME_TSIG.name} "$tsig" > ${shQuote(`${PATHS.acmeTsigKey}.tmp`)} && mv ${shQuote(`${PATHS.acmeTsigKey}.tmp`)} ${shQuote(PATHS.acmeTsigKey)}`);
    }
  }
  return [{ site: site.id, host: host.name, path: PATHS.fetchSecrets, content: fileText(lines), mode: 0o700, check: 'shell' }];
};
