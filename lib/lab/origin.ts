// The lab's origin: one namespace on the core serving generated images over HTTP and HTTPS
// (self-signed; caches in the lab trust it through the lab's /etc/hosts and CA bundle), standing
// in for the S3 bucket or HTTP origin the model names.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Topology } from '../model/schema.ts';
import { must, startDetached } from './exec.ts';
import { imageSet } from './images.ts';
import { ORIGIN } from './plan.ts';
import { labPaths, type LabProcess } from './state.ts';

export const LAB_IMAGE_COUNT = 120;

/** The hostname caches use for the origin: the S3 virtual-hosted name, or the URL's host. */
export function originHostname(t: Topology): string {
  const o = t.cdn.origin;
  return 's3' in o ? `${o.s3.bucket}.s3.${o.s3.region}.amazonaws.com` : new URL(o.http.url).hostname;
}

export async function prepareOrigin(): Promise<{ images: string[] }> {
  const root = labPaths.origin;
  const www = join(root, 'www');
  const images = imageSet(LAB_IMAGE_COUNT);
  for (const img of images) {
    mkdirSync(dirname(join(www, img.name)), { recursive: true });
    writeFileSync(join(www, img.name), img.data);
  }
  for (const d of ['temp/body', 'temp/proxy', 'temp/fastcgi', 'temp/uwsgi', 'temp/scgi', 'logs']) mkdirSync(join(root, d), { recursive: true });
  await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=anycdn-lab-origin', '-keyout', join(root, 'key.pem'), '-out', join(root, 'cert.pem')], { timeoutMs: 20_000 });
  const conf = [
    'daemon off;',
    `pid ${root}/nginx.pid;`,
    `error_log ${root}/logs/error.log;`,
    'worker_processes 1;',
    'events { worker_connections 1024; }',
    'http {',
    `  access_log ${root}/logs/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${root}/temp/${t === 'client_body' ? 'body' : t};`),
    '  types { image/png png; }',
    '  server {',
    '    listen 80 default_server; listen [::]:80 default_server;',
    '    listen 443 ssl default_server; listen [::]:443 ssl default_server;',
    `    ssl_certificate ${root}/cert.pem; ssl_certificate_key ${root}/key.pem;`,
    `    root ${www};`,
    '  }',
    '}',
  ];
  writeFileSync(join(root, 'nginx.conf'), `${conf.join('\n')}\n`);
  return { images: images.map((i) => `/${i.name}`) };
}

export function startOrigin(): LabProcess {
  const root = labPaths.origin;
  const child = startDetached('ip', ['netns', 'exec', ORIGIN.ns, 'nginx', '-p', root, '-c', join(root, 'nginx.conf')], join(root, 'logs', 'stdout.log'));
  return { pid: child.pid!, ns: ORIGIN.ns, owner: 'origin', unit: 'nginx' };
}
