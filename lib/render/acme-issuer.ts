// The issuer (acme.issuer): one host for the whole CDN obtains the image host's certificate from
// the ACME server with lego and stores it at acme.certRef, where every lb host fetches it.
//
// Why DNS-01, answered at every site: the CA validates from several vantage points, and each
// resolves the image host to the VIP of the site nearest to it, so an HTTP-01 token served by one
// site fails wherever another site answers. The DNS answer is anycast too, so the TXT record must
// be in every site's Knot before the CA is told to look. anycdn-acme-dns (lego's exec provider)
// sends one signed RFC 2136 update to each dns host's own address, then waits until each one
// answers the record from that address; only then does lego ask the CA to validate.
import { acmeIssuer, certNames, challengeServers, challengeZone, RENEW_MIN_LEFT_DAYS } from './acme-facts.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { fetchFunction } from './secrets.ts';
import { shAssignments } from './syntax/shell.ts';
import type { RenderedFile, Renderer } from './types.ts';
import type { Site, Topology } from '../model/schema.ts';

/** Issuance attempts per run, with a growing, jittered pause between them; the timer runs again later. */
export const ACME_ATTEMPTS = 3;
/** Seconds the DNS hook waits for every Knot to answer the challenge. */
const DNS_WAIT_SEC = 60;

export const renderAcmeIssuer: Renderer = (t, site, host) => {
  if (acmeIssuer(t)?.host.name !== host.name) return [];
  const file = (path: string, lines: string[]): RenderedFile => ({ site: site.id, host: host.name, path, content: fileText(lines), mode: 0o755, check: 'shell' });
  return [file(PATHS.acmeRenew, renewScript(t, site)), file(PATHS.acmeDnsHook, dnsHookScript(t, site))];
};

function renewScript(t: Topology, site: Site): string[] {
  const a = t.cdn.acme!;
  const [name] = certNames(t);
  return [
    '#!/bin/sh',
    ...headerLines(t, site.id, '#'),
    '# anycdn-acme-renew [--force]: when the certificate stored at acme.certRef is missing, does not',
    `# pass anycdn-cert-check, or has less than a third of its lifetime left (and never less than ${RENEW_MIN_LEFT_DAYS} days),`,
    '# obtains a new one (a new key too) over DNS-01 and stores it there, for the lb hosts to fetch.',
    `# At most ${ACME_ATTEMPTS} attempts, with a growing, jittered pause; the timer runs it twice a day.`,
    'set -eu',
    'umask 077',
    ...shAssignments([
      ['NAME', name!],
      ['DIRECTORY', a.directory],
      ['EMAIL', a.email],
      ['KEY_TYPE', a.keyType],
      ['CERT_REF', a.certRef],
      ['STATE', PATHS.acmeState],
      ['ATTEMPTS', ACME_ATTEMPTS],
      ['RENEW_MIN_LEFT_SEC', RENEW_MIN_LEFT_DAYS * 86400],
    ]),
    'log() { echo "anycdn-acme-renew: $*" >&2; }',
    ...fetchFunction('anycdn-acme-renew'),
    '',
    '# put REF FILE: store the PEM where the lb hosts fetch it, whole or not at all.',
    'put() {',
    '\tcase "$1" in',
    '\tssm:*) aws ssm put-parameter --name "${1#ssm:}" --type SecureString --tier Advanced --overwrite --value "file://$2" >/dev/null ;;',
    '\tsecretsmanager:*) aws secretsmanager put-secret-value --secret-id "${1#secretsmanager:}" --secret-string "file://$2" >/dev/null ;;',
    '\tfile:*) dst=${1#file:}; mkdir -p "$(dirname "$dst")" && cp "$2" "$dst.new.$$" && sync "$dst.new.$$" && mv -f "$dst.new.$$" "$dst" ;;',
    '\t*) log "unknown reference $1"; return 1 ;;',
    '\tesac',
    '}',
    '',
    'date_of() { date -d "$(openssl x509 -in "$1" -noout "$2" | sed \'s/^[^=]*=//\')" +%s; }',
    '',
    '# due FILE: is the stored certificate missing, bad, or past two thirds of its lifetime?',
    'due() {',
    `\t${PATHS.certCheck} "$1" || return 0`,
    '\tstart=$(date_of "$1" -startdate) && end=$(date_of "$1" -enddate) || return 0',
    '\tnow=$(date +%s)',
    '\tat=$(( (end - start) / 3 ))',
    '\t[ "$at" -ge "$RENEW_MIN_LEFT_SEC" ] || at=$RENEW_MIN_LEFT_SEC',
    '\tleft=$(( end - now ))',
    '\tlog "the stored certificate has $(( left / 86400 )) days left; renewing at $(( at / 86400 ))"',
    '\t[ "$left" -lt "$at" ]',
    '}',
    '',
    '# Keys only on tmpfs: never on this host\'s disk.',
    `mkdir -p ${PATHS.tmpDir}`,
    `work=$(mktemp -d ${PATHS.tmpDir}/acme.XXXXXX)`,
    "trap 'rm -rf \"$work\" \"$STATE/certificates\"' EXIT",
    'if [ "${1:-}" != --force ]; then',
    '\tif ! fetch "$CERT_REF" > "$work/current.pem" 2>/dev/null; then',
    '\t\tlog "nothing at $CERT_REF yet"',
    '\telif ! due "$work/current.pem"; then',
    '\t\texit 0',
    '\tfi',
    'fi',
    '',
    '# lego: the account lives in $STATE; the certificate and its key only until they are stored.',
    'attempt=1',
    'while :; do',
    `\tif EXEC_PATH=${PATHS.acmeDnsHook} EXEC_PROPAGATION_TIMEOUT=${DNS_WAIT_SEC + 30} EXEC_POLLING_INTERVAL=2 LEGO_DISABLE_CNAME_SUPPORT=true \\`,
    '\t\tlego --accept-tos --email "$EMAIL" --server "$DIRECTORY" --path "$STATE" --key-type "$KEY_TYPE" \\',
    '\t\t--domains "$NAME" --dns exec --dns.disable-cp --cert.timeout 90 run; then',
    '\t\tbreak',
    '\tfi',
    '\t[ "$attempt" -lt "$ATTEMPTS" ] || { log "no certificate after $ATTEMPTS attempts; the timer tries again"; exit 1; }',
    '\tpause=$(( attempt * 60 + $(od -An -N1 -tu1 /dev/urandom) % 60 ))',
    '\tlog "attempt $attempt failed; the next in $pause s"',
    '\tsleep "$pause"',
    '\tattempt=$(( attempt + 1 ))',
    'done',
    'crt="$STATE/certificates/$NAME.crt"',
    'key="$STATE/certificates/$NAME.key"',
    '# Chain, then key, without empty lines (haproxy\'s runtime API ends a payload at one).',
    'cat "$crt" "$key" | grep -v \'^[[:space:]]*$\' > "$work/new.pem"',
    `${PATHS.certCheck} "$work/new.pem" || { log "the new certificate fails its check; nothing stored"; exit 1; }`,
    'put "$CERT_REF" "$work/new.pem"',
    'log "stored a certificate for $NAME until $(openssl x509 -in "$work/new.pem" -noout -enddate | sed \'s/^notAfter=//\') at $CERT_REF"',
  ];
}

function dnsHookScript(t: Topology, site: Site): string[] {
  const zone = `${challengeZone(t)}.`;
  return [
    '#!/bin/sh',
    ...headerLines(t, site.id, '#'),
    '# lego\'s exec DNS provider: anycdn-acme-dns present|cleanup FQDN VALUE. Sends a TSIG-signed',
    '# RFC 2136 update to every dns host of every site at its own address (the anycast address reaches',
    '# only the nearest site, and the CA asks from several places); on present, waits until each one',
    `# answers the record (at most ${DNS_WAIT_SEC} s), so the CA finds it wherever it asks.`,
    'set -eu',
    ...shAssignments([
      ['ZONE', zone],
      ['KEY_FILE', PATHS.acmeTsigKey],
      // host=address pairs: names for the log, addresses for the updates.
      ['SERVERS', challengeServers(t).map((s) => `${s.host}=${s.address}`).join(' ')],
      ['WAIT_SEC', DNS_WAIT_SEC],
    ]),
    'fail() { echo "anycdn-acme-dns: $*" >&2; exit 1; }',
    '[ $# -eq 3 ] || fail "usage: anycdn-acme-dns present|cleanup FQDN VALUE"',
    'action=$1 fqdn=$2 value=$3',
    '[ "$fqdn" = "$ZONE" ] || fail "asked to answer at $fqdn; this issuer answers only at $ZONE"',
    'case "$value" in *[!A-Za-z0-9_-]* | \'\') fail "the challenge value is not base64url" ;; esac',
    'case "$action" in',
    'present) op="add $fqdn 60 TXT \\"$value\\"" ;;',
    'cleanup) op="delete $fqdn TXT \\"$value\\"" ;;',
    '*) fail "unknown action $action" ;;',
    'esac',
    'for s in $SERVERS; do',
    '\thost=${s%%=*} addr=${s#*=}',
    '\tprintf \'server %s 53\\nzone %s\\nupdate %s\\nsend\\n\' "$addr" "$ZONE" "$op" | knsupdate -t 5 -r 2 -k "$KEY_FILE" >/dev/null 2>&1 ||',
    '\t\tfail "$action: $host ($addr) refused the update or did not answer"',
    'done',
    '[ "$action" = present ] || exit 0',
    'waited=0',
    'for s in $SERVERS; do',
    '\thost=${s%%=*} addr=${s#*=}',
    '\tuntil kdig @"$addr" +short +time=1 +retry=0 TXT "$fqdn" 2>/dev/null | grep -qxF "\\"$value\\""; do',
    '\t\t[ "$waited" -lt "$WAIT_SEC" ] || fail "$host ($addr) does not answer the challenge after $WAIT_SEC s"',
    '\t\tsleep 1',
    '\t\twaited=$(( waited + 1 ))',
    '\tdone',
    'done',
    'echo "anycdn-acme-dns: every dns host answers the challenge: $SERVERS" >&2',
  ];
}
