// Certificates on the hosts (docs/certificates.md). Small programs, each callable on its own:
// - anycdn-cert-check PEM (lb hosts with haproxy.https, and the issuer): the chain verifies
//   against the system's CA bundle, the key is the certificate's, the names cover the image host,
//   and notAfter is ahead;
// - anycdn-cert-install PEM (lb hosts with haproxy.https): checks it, writes it to certPath
//   atomically (never a half-written PEM), hands it to the running haproxy through the runtime API
//   (`set ssl cert` + `commit ssl cert`: new handshakes get it, nothing restarts or reloads; a
//   reload only if the API refuses), and writes its notAfter for node-exporter's textfile
//   collector. With acme it is what anycdn-cert-fetch runs; without, the operator runs it;
// - anycdn-cert-fetch (with acme): fetches the PEM from acme.certRef and installs it;
// - anycdn-acme-renew and anycdn-acme-dns (the issuer): see acme-issuer.ts.
import { certNames, fetchesCert } from './acme-facts.ts';
import { servedCertPath } from './endpoints.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { fetchFunction } from './secrets.ts';
import { shAssignments } from './syntax/shell.ts';
import type { RenderedFile, Renderer } from './types.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { renderAcmeIssuer } from './acme-issuer.ts';

/** Debian's CA bundle: what every client trusts, so what the chain must verify against. */
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** A certificate with less validity left than this is never installed (an hour). */
const MIN_VALID_SEC = 3600;

export const renderCerts: Renderer = (t, site, host) => {
  const files: RenderedFile[] = [];
  const script = (path: string, lines: string[]): RenderedFile => ({ site: site.id, host: host.name, path, content: fileText(lines), mode: 0o755, check: 'shell' });
  const certPath = servedCertPath(t, site, host);
  const issues = renderAcmeIssuer(t, site, host);
  if (certPath !== undefined || issues.length > 0) files.push(script(PATHS.certCheck, checkScript(t, site)));
  if (certPath !== undefined) files.push(script(PATHS.certInstall, installScript(t, site, certPath)));
  if (fetchesCert(t, site, host)) files.push(script(PATHS.certFetch, fetchScript(t, site)));
  return [...files, ...issues];
};

function checkScript(t: Topology, site: Site): string[] {
  return [
    '#!/bin/sh',
    ...headerLines(t, site.id, '#'),
    '# anycdn-cert-check PEM: exits 0 when PEM holds a certificate, its chain and its private key that',
    '# haproxy may serve for the image host; else says why on stderr and exits 1. Changes nothing.',
    'set -eu',
    ...shAssignments([
      ['NAMES', certNames(t).join(' ')],
      ['CA_BUNDLE', CA_BUNDLE],
      ['MIN_VALID_SEC', MIN_VALID_SEC],
    ]),
    'pem=${1:?usage: anycdn-cert-check PEM}',
    'fail() { echo "anycdn-cert-check: $pem: $*" >&2; exit 1; }',
    'if [ ! -f "$pem" ] || [ ! -s "$pem" ]; then fail "no such file, or empty"; fi',
    `mkdir -p ${PATHS.tmpDir}`,
    `d=$(mktemp -d ${PATHS.tmpDir}/cert-check.XXXXXX)`,
    "trap 'rm -rf \"$d\"' EXIT",
    '# The first certificate is the leaf, the others its chain; exactly one private key, anywhere.',
    'awk -v d="$d" \'',
    '\t/^-----BEGIN CERTIFICATE-----$/ { n++; f = (n == 1) ? d "/leaf.pem" : d "/chain.pem" }',
    '\t/^-----BEGIN (EC |RSA )?PRIVATE KEY-----$/ { k++; f = d "/key.pem" }',
    '\tf { print > f }',
    '\t/^-----END / { f = "" }',
    '\tEND { exit (n >= 1 && k == 1) ? 0 : 1 }\' "$pem" || fail "must hold one certificate, its chain and exactly one private key"',
    '[ -s "$d/chain.pem" ] || fail "holds no intermediate certificate after the leaf; serve the whole chain"',
    'openssl x509 -in "$d/leaf.pem" -noout -checkend "$MIN_VALID_SEC" >/dev/null || fail "has expired, or expires within $MIN_VALID_SEC s"',
    'for name in $NAMES; do',
    '\topenssl verify -CAfile "$CA_BUNDLE" -untrusted "$d/chain.pem" -purpose sslserver -verify_hostname "$name" "$d/leaf.pem" >"$d/verify" 2>&1 ||',
    '\t\tfail "does not verify for $name against $CA_BUNDLE: $(grep -m 1 \'^error\' "$d/verify" || tail -n 1 "$d/verify")"',
    'done',
    '[ "$(openssl x509 -in "$d/leaf.pem" -noout -pubkey)" = "$(openssl pkey -in "$d/key.pem" -pubout)" ] || fail "the private key is not the certificate\'s"',
  ];
}

function installScript(t: Topology, site: Site, certPath: string): string[] {
  return [
    '#!/bin/sh',
    ...headerLines(t, site.id, '#'),
    '# anycdn-cert-install PEM: checks PEM (anycdn-cert-check), writes it to the path haproxy serves',
    '# atomically, hands it to the running haproxy through its runtime API (new handshakes get it; no',
    '# reload, no connection touched), and writes its notAfter for node-exporter. The same PEM again',
    '# changes nothing. anycdn-cert-install --metrics only writes the notAfter of the installed one.',
    'set -eu',
    ...shAssignments([
      ['CERT_PATH', certPath],
      ['SOCKET', PATHS.haproxySocket],
      ['HAPROXY_PID', PATHS.haproxyPid],
      ['METRICS', t.cdn.monitoring ? PATHS.certMetrics : ''],
      ['LOCK', PATHS.certLock],
    ]),
    'fail() { echo "anycdn-cert-install: $*" >&2; exit 1; }',
    '',
    '# notAfter of the installed certificate, as node-exporter\'s textfile collector (user prometheus) reads it.',
    'metrics() {',
    '\tif [ -z "$METRICS" ] || [ ! -d "$(dirname "$METRICS")" ]; then return 0; fi',
    '\tend=$(openssl x509 -in "$CERT_PATH" -noout -enddate) || return 1',
    '\tend=$(date -d "${end#notAfter=}" +%s) || return 1',
    '\t{',
    '\t\techo "# HELP anycdn_tls_cert_not_after_seconds When the certificate haproxy serves expires (Unix time)."',
    '\t\techo "# TYPE anycdn_tls_cert_not_after_seconds gauge"',
    '\t\techo "anycdn_tls_cert_not_after_seconds{path=\\"$CERT_PATH\\"} $end"',
    '\t} > "$METRICS.$$" && chmod 644 "$METRICS.$$" && mv -f "$METRICS.$$" "$METRICS"',
    '}',
    '',
    '# The haproxy admin socket, one command (and its payload) per connection.',
    'runtime() { socat -t 10 - "UNIX-CONNECT:$SOCKET"; }',
    '',
    '# Hands the installed PEM to haproxy: a transaction, then its commit. A PEM payload ends at the',
    '# first empty line, so empty lines are left out.',
    'hand_over() {',
    '\tout=$({ printf \'set ssl cert %s <<\\n\' "$CERT_PATH"; grep -v \'^[[:space:]]*$\' "$CERT_PATH"; printf \'\\n\'; } | runtime) || return 1',
    '\tcase "$out" in',
    '\t*"Transaction created"* | *"Transaction updated"*) ;;',
    '\t*) echo "anycdn-cert-install: haproxy refused set ssl cert: $out" >&2; printf \'abort ssl cert %s\\n\' "$CERT_PATH" | runtime >/dev/null || true; return 1 ;;',
    '\tesac',
    '\tout=$(printf \'commit ssl cert %s\\n\' "$CERT_PATH" | runtime) || return 1',
    '\tcase "$out" in',
    '\t*Success*) return 0 ;;',
    '\t*) echo "anycdn-cert-install: haproxy refused commit ssl cert: $out" >&2; return 1 ;;',
    '\tesac',
    '}',
    '',
    '# The fallback: a reload, which haproxy does without dropping connections.',
    'reload() {',
    '\tif [ -d /run/systemd/system ]; then systemctl reload haproxy; else kill -USR2 "$(cat "$HAPROXY_PID")"; fi',
    '}',
    '',
    'if [ "${1:-}" = --metrics ]; then metrics; exit; fi',
    'new=${1:?usage: anycdn-cert-install PEM | --metrics}',
    `${PATHS.certCheck} "$new" || fail "refused $new; $CERT_PATH is unchanged"`,
    'mkdir -p "$(dirname "$LOCK")"',
    'exec 9>"$LOCK"',
    'flock -w 60 9 || fail "another install holds $LOCK"',
    'if [ -f "$CERT_PATH" ] && cmp -s "$new" "$CERT_PATH"; then',
    '\techo "anycdn-cert-install: $CERT_PATH is already this certificate"',
    '\tmetrics',
    '\texit 0',
    'fi',
    '# Written beside the target and renamed over it: a reader sees the old file or the new one, whole.',
    'umask 077',
    'mkdir -p "$(dirname "$CERT_PATH")"',
    'tmp="$CERT_PATH.new.$$"',
    "trap 'rm -f \"$tmp\"' EXIT",
    'cp "$new" "$tmp"',
    'sync "$tmp"',
    'mv -f "$tmp" "$CERT_PATH"',
    'if [ ! -S "$SOCKET" ]; then',
    '\techo "anycdn-cert-install: installed $CERT_PATH; haproxy is not running and loads it when it starts"',
    'elif hand_over; then',
    '\techo "anycdn-cert-install: installed $CERT_PATH; haproxy serves it (set ssl cert, commit ssl cert: no reload)"',
    'else',
    '\treload || fail "installed $CERT_PATH, but haproxy took it neither through its runtime API nor by a reload"',
    '\techo "anycdn-cert-install: installed $CERT_PATH; haproxy reloaded"',
    'fi',
    'metrics',
  ];
}

function fetchScript(t: Topology, site: Site): string[] {
  const ref = t.cdn.acme!.certRef;
  return [
    '#!/bin/sh',
    ...headerLines(t, site.id, '#'),
    '# anycdn-cert-fetch: fetches the certificate the issuer stored at acme.certRef and installs it',
    '# (anycdn-cert-install: checked, atomic, without a reload). Both lb hosts of every site fetch the',
    '# same PEM, so a VRRP failover never changes the certificate clients see.',
    'set -eu',
    'umask 077',
    ...shAssignments([['CERT_REF', ref]]),
    ...fetchFunction('anycdn-cert-fetch'),
    `mkdir -p ${PATHS.tmpDir}`,
    `tmp=$(mktemp ${PATHS.tmpDir}/cert-fetch.XXXXXX)`,
    "trap 'rm -f \"$tmp\"' EXIT",
    'fetch "$CERT_REF" > "$tmp" || { echo "anycdn-cert-fetch: cannot fetch $CERT_REF" >&2; exit 1; }',
    `${PATHS.certInstall} "$tmp"`,
  ];
}
