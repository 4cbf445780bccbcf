// bird -p, knotc conf-check, kzonecheck and sh -n: the checkers of the anycast DNS slice.
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

export const birdChecker: Checker = {
  kind: 'bird',
  binary: '/usr/sbin/bird',
  debianPackage: 'bird2',
  command: (f) => `/usr/sbin/bird -p -c ${f.path}`,
  // BGP passwords are fetched at boot; the check gets a placeholder in their place.
  fixtures: (f) =>
    [...f.content.matchAll(/include "(\/run\/anycdn\/secrets\/bird-[a-z0-9-]+\.conf)";/g)].map((m) => ({
      path: m[1]!,
      content: 'password "placeholder-for-check";\n',
    })),
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
  command: (f) => `/usr/bin/kzonecheck -v -o ${f.path.replace(/^.*\//, '').replace(/\.zone$/, '')} ${f.path}`,
  parse: (out, code, f) => mapOutput('kzonecheck', out, code, f, [/file '(?<path>[^']+)', line (?<line>\d+)/]),
};

export const shellChecker: Checker = {
  kind: 'shell',
  binary: '/bin/sh',
  debianPackage: 'dash',
  command: (f) => `/bin/sh -n ${f.path}`,
  parse: (out, code, f) => mapOutput('sh -n', out, code, f, [/(?<path>\/[^\s:]+): (?<line>\d+):/]),
};
