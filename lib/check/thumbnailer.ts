// The thumbnailer's checkers (nginx caches with images.transforms): Python's own compiler on the
// program, and the program's --check-config on its config, which also proves that libvips loads
// and encodes every format the config names (AVIF needs libheif's AV1 encoder).
import { PATHS } from '../render/index.ts';
import { shQuote } from '../render/syntax/shell.ts';
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

/** Compiles without running and without writing bytecode; a syntax error as FILE:LINE:COL. */
const COMPILE = [
  'import sys',
  'try: compile(open(sys.argv[1], "rb").read(), sys.argv[1], "exec")',
  'except SyntaxError as e: print(f"{e.filename}:{e.lineno}:{e.offset or 1}: SyntaxError: {e.msg}"); sys.exit(1)',
].join('\n');

export const pythonChecker: Checker = {
  kind: 'python',
  binary: PATHS.python,
  debianPackage: 'python3',
  command: (f) => `${PATHS.python} -I -B -c ${shQuote(COMPILE)} ${shQuote(f.path)}`,
  contentOnly: true,
  parse: (out, code, f) => mapOutput('python3', out, code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+):(?<col>\d+): /]),
};

export const thumbnailerChecker: Checker = {
  kind: 'thumbnailer',
  binary: PATHS.python,
  debianPackage: 'python3',
  command: (f) => `${PATHS.python} -I -B ${PATHS.thumbnailer} --check-config ${shQuote(f.path)}`,
  parse: (out, code, f) => mapOutput('anycdn-thumbnailer', out, code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+):(?<col>\d+): /]),
};
