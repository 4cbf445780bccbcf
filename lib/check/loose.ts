// Needs of files that come without a plan: hand-written ones, such as the known-bad files the
// checker tests feed in. Only here does a regex read what a file refers to; rendered files come
// with their host plan's needs (render/catalog.ts).
import { BIRD_ANNOUNCE_DEFAULT, PATHS, type HostNeeds } from '../render/index.ts';
import type { RenderedFile } from '../render/types.ts';
import { upstreamHostnames } from './cache.ts';
import { haproxyCertPaths, keepalivedInterfaces } from './lb.ts';

export function looseNeeds(files: RenderedFile[]): HostNeeds {
  const of = (kind: RenderedFile['check'], pick: (content: string) => string[]) =>
    [...new Set(files.filter((f) => f.check === kind).flatMap((f) => pick(f.content)))].sort();
  const birdIncludes = (content: string) => [...content.matchAll(/include "([^"]+)";/g)].map((m) => m[1]!);
  return {
    dirs: [],
    interfaces: of('keepalived', keepalivedInterfaces),
    hostNames: of('nginx', upstreamHostnames),
    secretFiles: of('bird', (c) => birdIncludes(c).filter((p) => p.startsWith(`${PATHS.birdSecretsDir}/`))),
    certPaths: of('haproxy', haproxyCertPaths),
    stateFiles: of('bird', (c) => birdIncludes(c).filter((p) => p === PATHS.birdAnnounce)).map((path) => ({ path, content: BIRD_ANNOUNCE_DEFAULT })),
  };
}
