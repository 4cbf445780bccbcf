// The lab's origins: one namespace each on the core serving the same generated images (a replica),
// standing in for the S3 buckets or HTTP origins the model names, at exactly the port and scheme the caches use: both come
// from originTarget() (lib/model/facts.ts), the one origin fact the renderers read. Over TLS the
// certificate is signed by a throwaway lab CA that the host views trust.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { originTarget, type OriginTarget } from '../model/facts.ts';
import type { Topology } from '../model/schema.ts';
import { must } from '../run.ts';
import { startDetached } from './exec.ts';
import { imageSet, photoSet } from './images.ts';
import { labOrigin } from './plan.ts';
import { labPaths, type LabProcess } from './state.ts';

export const LAB_IMAGE_COUNT = 120;

/** The origin nginx's listen lines: the lab origin's addresses, at the model's port and scheme. */
export function originListen(origin: OriginTarget, index = 0): string[] {
  const tls = origin.tls ? ' ssl' : '';
  const at = labOrigin(index);
  return [`listen ${at.v4}:${origin.port}${tls} default_server;`, `listen [${at.v6}]:${origin.port}${tls} default_server;`];
}

/**
 * Each lab origin's log of what it served, one `<epoch seconds.ms> <uri> <status>` line per
 * request: which origin answered a miss, and when.
 */
export const originFetchLog = (index: number) => join(labPaths.originDir(index), 'logs', 'fetches.log');

/**
 * A path prefix every lab origin answers with the image below it: /miss/<n>/img/0001.png is
 * /img/0001.png, so a load can ask for any number of distinct (uncached) URLs of real images.
 */
export const MISS_PREFIX = '/miss/';

/** Debian's CA bundle, which nginx (proxy_ssl_trusted_certificate) and Squid trust. */
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * Writes the origin's images, nginx config and TLS: nginx listens only at the model's port, with
 * TLS only when the model's scheme is https; a throwaway lab CA signs the origin's certificate for
 * the origin hostname, and `caBundle` (the machine's bundle plus that CA) is what
 * the host views trust, so the caches verify the origin exactly as they verify S3.
 */
export async function prepareOrigin(origin: OriginTarget, index = 0): Promise<{ images: string[]; caBundle: string }> {
  const hostname = origin.host;
  const root = labPaths.originDir(index);
  // One lab CA (in the primary's directory) signs every origin's certificate.
  const caDir = labPaths.originDir(0);
  const www = join(root, 'www');
  const images = imageSet(LAB_IMAGE_COUNT);
  // The photos derived images are made from (not in `images`: the load and hit-ratio streams keep their set).
  for (const img of [...images, ...photoSet()]) {
    mkdirSync(dirname(join(www, img.name)), { recursive: true });
    writeFileSync(join(www, img.name), img.data);
  }
  for (const d of ['temp/body', 'temp/proxy', 'temp/fastcgi', 'temp/uwsgi', 'temp/scgi', 'logs']) mkdirSync(join(root, d), { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
  if (index === 0) await must('openssl', ['req', '-x509', ...ec, '-subj', '/CN=anycdn lab CA', '-keyout', join(root, 'ca.key'), '-out', join(root, 'ca.pem')], { timeoutMs: 20_000 });
  await must('openssl', ['req', '-x509', ...ec, '-CA', join(caDir, 'ca.pem'), '-CAkey', join(caDir, 'ca.key'), '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=DNS:${hostname}`, '-keyout', join(root, 'key.pem'), '-out', join(root, 'cert.pem')], { timeoutMs: 20_000 });
  const caBundle = join(caDir, 'ca-bundle.crt');
  if (index === 0) writeFileSync(caBundle, `${existsSync(SYSTEM_CA_BUNDLE) ? readFileSync(SYSTEM_CA_BUNDLE, 'utf8') : ''}\n${readFileSync(join(root, 'ca.pem'), 'utf8')}`);
  const conf = [
    'daemon off;',
    `pid ${root}/nginx.pid;`,
    `error_log ${root}/logs/error.log;`,
    'worker_processes 1;',
    'events { worker_connections 1024; }',
    'http {',
    `  access_log ${root}/logs/access.log;`,
    '  log_format fetches \'$msec $request_uri $status\';',
    `  access_log ${originFetchLog(index)} fetches;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${root}/temp/${t === 'client_body' ? 'body' : t};`),
    '  types { image/png png; }',
    '  server {',
    ...originListen(origin, index).map((l) => `    ${l}`),
    ...(origin.tls ? [`    ssl_certificate ${root}/cert.pem; ssl_certificate_key ${root}/key.pem;`] : []),
    `    root ${www};`,
    `    location ${MISS_PREFIX} { rewrite ^${MISS_PREFIX}[0-9]+(/.*)$ $1 break; }`,
    '  }',
    '}',
  ];
  writeFileSync(join(root, 'nginx.conf'), `${conf.join('\n')}\n`);
  return { images: images.map((i) => `/${i.name}`), caBundle };
}

/** The state owner of the lab origin at `index`: origin, origin2, ... */
export const originOwner = (index: number) => (index === 0 ? 'origin' : `origin${index + 1}`);

export function startOrigin(index = 0): LabProcess {
  const root = labPaths.originDir(index);
  const at = labOrigin(index);
  const child = startDetached('ip', ['netns', 'exec', at.ns, 'nginx', '-p', root, '-c', join(root, 'nginx.conf')], join(root, 'logs', 'stdout.log'));
  return { pid: child.pid!, ns: at.ns, owner: originOwner(index), unit: 'nginx' };
}
