// The secrets fetcher: turns each passwordRef into a bird include file under /run (tmpfs), at
// boot, on the host. The rendered tree holds only the references, never a secret.
import type { Peer } from '../model/schema.ts';
import { fileText, headerLines } from './header.ts';
import { birdSecretFile, PATHS } from './paths.ts';
import { passwordFile } from './syntax/bird.ts';
import { emitSh, quote, sh } from './syntax/shell.ts';
import { hasRole } from '../model/facts.ts';
import type { Renderer } from './types.ts';

/** printf's format for a secret file: bird's own password statement, with `%s` for the secret. */
const PRINTF_FORMAT = passwordFile('%s').replace(/\n$/, '\\n');

export const renderSecrets: Renderer = (t, site, host) => {
  const peers = site.bgp.peers.filter((p): p is Peer & { passwordRef: string } => p.passwordRef !== undefined);
  if (!hasRole(host, 'dns') || peers.length === 0) return [];
  const lines = [
    '#!/bin/sh',
    ...headerLines(t, site.id, '#'),
    sh`set -eu
umask 077
mkdir -p ${quote(PATHS.birdSecretsDir)}
`,
    '# fetch REF: print the secret a reference points at (ssm:/name, secretsmanager:name, file:/path).',
    sh`fetch() {
	case "$1" in
	ssm:*) aws ssm get-parameter --with-decryption --name "\${1#ssm:}" --query Parameter.Value --output text ;;
	secretsmanager:*) aws secretsmanager get-secret-value --secret-id "\${1#secretsmanager:}" --query SecretString --output text ;;
	file:*) cat "\${1#file:}" ;;
	*) echo "anycdn-fetch-secrets: unknown reference $1" >&2; return 1 ;;
	esac
}
`,
    '# bird_password REF FILE: write `password "...";`, refusing what a bird string cannot carry (as quote() does).',
    sh`bird_password() {
	secret=$(fetch "$1")
	case "$secret" in
	*'"'* | *\\* | *[[:cntrl:]]* | '') echo "anycdn-fetch-secrets: $1 is empty or holds a quote, backslash or control character, which bird cannot carry" >&2; return 1 ;;
	esac
	printf ${quote(PRINTF_FORMAT)} "$secret" > "$2.tmp" && mv "$2.tmp" "$2"
}
`,
    ...peers.map((p) => sh`bird_password ${quote(p.passwordRef)} ${quote(birdSecretFile(p.name))}`),
  ];
  return [{ site: site.id, host: host.name, path: PATHS.fetchSecrets, content: fileText(emitSh(lines)), mode: 0o700, check: 'shell' }];
};
