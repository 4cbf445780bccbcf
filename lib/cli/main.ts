// The CLI entry: parses arguments, runs one command, maps failures to the exit-code contract.
// Library code never exits the process; only this file decides the exit code.
import { Command, CommanderError } from 'commander';
import { fsReason, InputError } from '../model/errors.ts';
import { renderCommand } from './render.ts';
import { validateCommand } from './validate.ts';
import { labDownCommand, labStatusCommand, labUpCommand } from './lab.ts';
import { drainCommand, type DrainOptions } from './drain.ts';
import { EXIT, printDiagnostics, processIo, type Io } from './report.ts';

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let result: Promise<number> = Promise.resolve(EXIT.ok);
  const program = new Command('anycdn')
    .description('Infrastructure as code for a self-hosted anycast image CDN')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError(false);
  program
    .command('render')
    .description('render every host config tree to --out/<site>/<host>/<path on host> (atomic)')
    .option('--sites <dir>', 'site model directory', 'sites')
    .option('--out <dir>', 'output directory', 'out')
    .action((o: { sites: string; out: string }) => {
      result = renderCommand(o, io);
    });
  program
    .command('validate')
    .description("render to a temp dir and run every daemon's own checker on every file")
    .option('--sites <dir>', 'site model directory', 'sites')
    .action((o: { sites: string }) => {
      result = validateCommand(o, io);
    });
  for (const direction of ['drain', 'undrain'] as const) {
    program
      .command(`${direction} <target>`)
      .description(
        direction === 'drain'
          ? 'take <site> or <site>/<host> out of service gracefully at run time: print the steps; --apply runs them and waits until it is safe to stop'
          : 'return <site> or <site>/<host> to service at run time: print the steps; --apply runs them',
      )
      .option('--sites <dir>', 'site model directory', 'sites')
      .option('--apply', 'run the steps for this host (with --lab: for every lab host), then wait')
      .option('--lab', 'apply inside the running lab (`anycdn lab up`) instead of on this host')
      .option('--timeout <sec>', 'how long --apply waits (default: from the model)')
      .action((target: string, o: DrainOptions) => {
        result = drainCommand(direction, target, o, io);
      });
  }
  const lab = program.command('lab').description('run the whole CDN in network namespaces on this machine (root)');
  lab
    .command('up')
    .description('build every site, router, client and the origin, start the rendered daemons')
    .option('--sites <dir>', 'site model directory', 'sites')
    .action((o: { sites: string }) => {
      result = labUpCommand(o, io);
    });
  lab
    .command('status')
    .description('what each nearby client sees: anycast DNS answer, NSID, VIP health, routes')
    .action(() => {
      result = labStatusCommand(io);
    });
  lab
    .command('down')
    .description('stop everything `up` started and remove its namespaces (safe after a crash)')
    .action(() => {
      result = labDownCommand(io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return await result;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof InputError) {
      printDiagnostics(io, e.diagnostics);
      return EXIT.invalid;
    }
    if (isSystemError(e)) {
      io.err(`${e.path ?? ''}:1:1: cannot ${e.syscall ?? 'access'}: ${fsReason(e)}; check the path and its permissions`);
      io.err('1 error');
      return EXIT.invalid;
    }
    io.err(`anycdn: internal error, please report it with this trace:\n${(e as Error).stack ?? String(e)}`);
    return EXIT.internal;
  }
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}
