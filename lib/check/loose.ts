// Needs of files that come without a plan: hand-written ones, such as the known-bad files the
// checker tests feed in. Only here does a regex read what a file refers to; rendered files come
// with their host plan's needs (render/catalog.ts).
import { dirname } from 'node:path';
import { BIRD_ANNOUNCE_DEFAULT, PATHS, type DirNeed, type HostNeeds } from '../render/index.ts';
import type { RenderedFile } from '../render/types.ts';
import { upstreamHostnames } from './cache.ts';
import { haproxyCertPaths, keepalivedInterfaces } from './lb.ts';

export function looseNeeds(files: RenderedFile[]): HostNeeds {
  const of = (kind: RenderedFile['check'], pick: (content: string) => string[]) =>
    [...new Set(files.filter((f) => f.check === kind).flatMap((f) => pick(f.content)))].sort();
  const birdIncludes = (content: string) => [...content.matchAll(/include "([^"]+)";/g)].map((m) => m[1]!);
  return {
    dirs: of('nginx', nginxParentDirs).map((path): DirNeed => ({ path, owner: 'root', group: 'root', mode: 0o755 })),
    interfaces: of('keepalived', keepalivedInterfaces),
    hostNames: of('nginx', upstreamHostnames),
    secretFiles: of('bird', (c) => birdIncludes(c).filter((p) => p.startsWith(`${PATHS.birdSecretsDir}/`))),
    certPaths: of('haproxy', haproxyCertPaths),
    stateFiles: of('bird', (c) => birdIncludes(c).filter((p) => p === PATHS.birdAnnounce)).map((path) => ({ path, content: BIRD_ANNOUNCE_DEFAULT })),
  };
}

/**
 * The directories nginx expects to exist before it starts (the package's log directory, the
 * cache's parent: nginx creates only the last component of a cache path), for the view to make.
 */
function nginxParentDirs(content: string): string[] {
  return [...content.matchAll(/^\s*(?:proxy_cache_path|error_log|access_log|pid)\s+(\/[^\s;]+)/gm)].map((m) => dirname(m[1]!));
}
