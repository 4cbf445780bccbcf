// bird -p, knotc conf-check, kzonecheck and sh -n: the checkers of the anycast DNS slice.
import { PATHS } from '../render/index.ts';
import type { RenderedFile } from '../render/types.ts';
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

export const birdChecker: Checker = {
  kind: 'bird',
  binary: '/usr/sbin/bird',
  debianPackage: 'bird2',
  command: (f) => `/usr/sbin/bird -p -c ${f.path}`,
  // BGP passwords are fetched at boot; the check gets a placeholder in their place.
  parse: (out, code, f) => mapOutput('bird', out, code, f, [/(?<path>\/[^\s:]+):(?<line>\d+):(?<col>\d+)/]),
};

export const knotChecker: Checker = {
  kind: 'knot',
  binary: '/usr/sbin/knotc',
  debianPackage: 'knot',
  command: (f) => `/usr/sbin/knotc -c ${f.path} conf-check`,
  parse: (out, code, f) => mapOutput('knotc', out, code, f, [/file '(?<path>[^']+)', line (?<line>\d+)/, /line (?<line>\d+)/]),
};

export const zoneChecker: Checker = {
  kind: 'zone',
  binary: '/usr/bin/kzonecheck',
  debianPackage: 'knot-dnssecutils',
  command: (f) => `/usr/bin/kzonecheck -v -o ${zoneOrigin(f)} ${f.path}`,
  parse: (out, code, f) => mapOutput('kzonecheck', out, code, f, [/file '(?<path>[^']+)', line (?<line>\d+)/]),
};

/** A zone file's origin, as the renderer recorded it (knot.conf's domain). */
export function zoneOrigin(f: RenderedFile): string {
  if (f.zone === undefined) throw new Error(`internal: zone file ${f.path} carries no origin (RenderedFile.zone)`);
  return f.zone;
}

export const shellChecker: Checker = {
  kind: 'shell',
  binary: '/bin/sh',
  debianPackage: 'dash',
  command: (f) => `/bin/sh -n ${f.path}`,
  contentOnly: true,
  parse: (out, code, f) => mapOutput('sh -n', out, code, f, [/(?<path>\/[^\s:]+): (?<line>\d+):/]),
};

/** The health checker program: `node --check` parses it without running it. */
export const nodeChecker: Checker = {
  kind: 'node',
  binary: PATHS.node,
  debianPackage: 'nodejs',
  command: (f) => `${PATHS.node} --check ${f.path}`,
  contentOnly: true,
  // node --check prints `FILE:LINE` first, then the line, a caret and `SyntaxError: ...`.
  parse: (out, code, f) => mapOutput('node --check', out.replace(/^(\/\S+:\d+)\n[\s\S]*?\n(\w*Error: .*)$/m, '$1 $2'), code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+) /]),
};

/** The health checker's config, read and checked by the program itself (which must load too). */
export const healthcheckChecker: Checker = {
  kind: 'healthcheck',
  binary: PATHS.node,
  debianPackage: 'nodejs',
  command: (f) => `${PATHS.node} ${PATHS.healthcheck} --check-config ${f.path}`,
  parse: (out, code, f) => mapOutput('anycdn-healthcheck', out, code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+):(?<col>\d+): /]),
};
