// anycdn-thumbnailer on nginx caches (images.transforms): lib/thumbnailer/anycdn-thumbnailer.py, a
// Python program on Debian's python3 and libvips (python3-gi, gir1.2-vips-8.0), shipped byte for
// byte; its JSON config; and its unit, sandboxed: a dynamic user, loopback only, no capabilities,
// a read-only system, and memory, CPU and task limits that follow from the model's workers.
//
// Every nginx cache runs it while transforms are on: the shield's (or, without a shield, every
// site's) make the derived images, the others only while the shield fails (nginx-transforms.ts).
// nginx reaches it on loopback; it reads the originals back from the same nginx, on a loopback
// listener of the image server, so they are cached there as themselves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { derivedTimeouts, negotiates, transformsOf, widthAlternation, type Transforms } from '../model/transforms.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { exec, MAINPID } from './syntax/unit.ts';
import { endpointOf, type Endpoint } from './endpoints.ts';
import { hasRole } from '../model/facts.ts';
import type { Renderer } from './types.ts';
import type { UnitSpec } from './unit-spec.ts';

/** The program: a constant of this package, not rendered from the model. */
export const THUMBNAILER_PROGRAM = readFileSync(join(PACKAGE_ROOT, 'lib', 'thumbnailer', 'anycdn-thumbnailer.py'), 'utf8');

export const THUMBNAILER_UNIT = 'anycdn-thumbnailer';
/** Connections the thumbnailer serves at once (nginx keeps a pool of 16 idle ones). */
const MAX_CONNECTIONS = 64;
/** The Debian packages the thumbnailer runs on (gir1.2-vips-8.0 brings libvips42 and its libheif, libwebp). */
export const THUMBNAILER_PACKAGES = ['gir1.2-vips-8.0', 'python3', 'python3-gi'];

/** Whether this host runs the thumbnailer: an nginx cache of a CDN with transforms. */
export function runsThumbnailer(t: Topology, host: Host): boolean {
  return transformsOf(t) !== undefined && hasRole(host, 'cache') && host.cacheEngine === 'nginx';
}

/** The command line: isolated mode (no user site, no PYTHON* variables), no bytecode written. */
function python(...args: string[]) {
  return exec(PATHS.python, '-I', '-B', PATHS.thumbnailer, ...args);
}

/**
 * Memory for the whole unit: the interpreter and libvips (about 64 MiB a process), and per worker
 * the original, its copy in libvips and the result (3 x maxSourceMiB), with room for the decoder.
 */
export function thumbnailerMemoryMiB(tr: Transforms): number {
  return 128 + tr.workers * (96 + 3 * tr.maxSourceMiB);
}

/** Where nginx reaches the thumbnailer, and where the thumbnailer reads the originals back (both loopback). */
export function thumbnailerEndpoints(t: Topology, site: Site, host: Host): { listen: Endpoint; originals: Endpoint } {
  return { listen: endpointOf(t, site, host, THUMBNAILER_UNIT, 'thumbnailer'), originals: endpointOf(t, site, host, 'nginx', 'cache-originals') };
}

export function thumbnailerConfig(t: Topology, site: Site, host: Host, tr: Transforms, header: string) {
  const { listen, originals } = thumbnailerEndpoints(t, site, host);
  return {
    '//': header,
    listen: { address: listen.address, port: listen.port },
    originals: { address: originals.address, port: originals.port, host: t.cdn.imageHost, timeoutSec: derivedTimeouts(t).original },
    pathPrefix: tr.pathPrefix,
    widths: widthAlternation(tr).split('|').map(Number),
    formats: tr.formats,
    vary: negotiates(tr),
    quality: { jpeg: tr.jpegQuality, webp: tr.webpQuality, avif: tr.avifQuality, avifEffort: tr.avifEffort },
    maxSourceBytes: tr.maxSourceMiB * 2 ** 20,
    maxSourcePixels: tr.maxSourceMegapixels * 1_000_000,
    timeoutSec: tr.timeoutSec,
    queueTimeoutSec: tr.timeoutSec,
    workers: tr.workers,
    maxConnections: MAX_CONNECTIONS,
  };
}

export const renderThumbnailer: Renderer = (t, site, host) => {
  const tr = transformsOf(t);
  if (!tr || !runsThumbnailer(t, host)) return [];
  const header = headerLines(t, site.id, '').map((l) => l.trim()).join(' ');
  return [
    { site: site.id, host: host.name, path: PATHS.thumbnailer, content: fileText([...headerLines(t, site.id, '#'), THUMBNAILER_PROGRAM]), mode: 0o644, check: 'python' },
    { site: site.id, host: host.name, path: PATHS.thumbnailerConf, content: `${JSON.stringify(thumbnailerConfig(t, site, host, tr, header), null, 2)}\n`, mode: 0o644, check: 'thumbnailer' },
  ];
};

/** The unit (units-cache.ts adds it to nginx caches). */
export function thumbnailerUnits(t: Topology, _site: Site, host: Host): UnitSpec[] {
  const tr = transformsOf(t);
  if (!tr || !runsThumbnailer(t, host)) return [];
  return [
    {
      name: THUMBNAILER_UNIT,
      description: "anycdn thumbnailer: derived images with libvips for this host's nginx, on loopback",
      service: [
        ['Type', 'simple'],
        ['ExecStartPre', python('--check-config', PATHS.thumbnailerConf)],
        ['ExecStart', python(PATHS.thumbnailerConf)],
        // New settings and new workers; the transforms under way finish on the old ones.
        ['ExecReload', exec('/bin/kill', '-HUP', MAINPID)],
        ['Restart', 'always'],
        ['RestartSec', '1'],
        ['TimeoutStopSec', '5'],
        // Its own user, made at start and gone at stop: it owns no file, and reads only its two.
        ['DynamicUser', 'yes'],
        ['CapabilityBoundingSet', ''],
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['ProtectHome', 'yes'],
        ['PrivateTmp', 'yes'],
        ['PrivateDevices', 'yes'],
        ['ProtectKernelTunables', 'yes'],
        ['ProtectKernelModules', 'yes'],
        ['ProtectKernelLogs', 'yes'],
        ['ProtectControlGroups', 'yes'],
        ['ProtectClock', 'yes'],
        ['ProtectHostname', 'yes'],
        ['ProtectProc', 'invisible'],
        ['ProcSubset', 'pid'],
        ['RestrictNamespaces', 'yes'],
        ['RestrictRealtime', 'yes'],
        ['RestrictSUIDSGID', 'yes'],
        ['LockPersonality', 'yes'],
        // liborc compiles libvips' vector loops at run time, which MemoryDenyWriteExecute= forbids.
        ['SystemCallArchitectures', 'native'],
        ['SystemCallFilter', '@system-service'],
        ['SystemCallFilter', '~@privileged @resources'],
        ['UMask', '0077'],
        // Loopback only: nginx in, the originals from nginx back; nothing else, in or out.
        ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
        ['IPAddressDeny', 'any'],
        ['IPAddressAllow', 'localhost'],
        // One core at most per worker, and below nginx when both want the CPU: hits come first.
        ['CPUQuota', `${tr.workers * 100}%`],
        ['CPUWeight', '20'],
        ['MemoryMax', `${thumbnailerMemoryMiB(tr)}M`],
        ['MemorySwapMax', '0'],
        ['TasksMax', String(MAX_CONNECTIONS + 8 * tr.workers + 16)],
        ['Environment', 'MALLOC_ARENA_MAX=2'],
      ],
    },
  ];
}
