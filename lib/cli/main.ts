// The CLI entry: parses arguments, runs one command, maps failures to the exit-code contract.
// Library code never exits the process; only this file decides the exit code. Each command's
// module is imported only when that command runs, so `--help` and `--version` load no model,
// renderer or checker code (and never aws-cdk-lib or Pulumi).
import { Command, CommanderError } from 'commander';
import { fsReason, InputError } from '../model/errors.ts';
import { EXIT, printDiagnostics, processIo, type Io } from './report.ts';
import type { DrainOptions } from './drain.ts';
import type { PlanOptions } from './plan.ts';
import { versionText } from './version.ts';

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const { program, result } = cliProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return await result()();
  } catch (e) {
    return failure(e, argv, io);
  }
}

/**
 * The parser: every command and flag, and the command each runs (`result()` after a parse).
 * docs/cli.md is generated from it (bin/docs.ts).
 */
export function cliProgram(io: Io): { program: Command; result: () => () => Promise<number> } {
  let result: () => Promise<number> = async () => EXIT.ok;
  const program = new Command('anycdn')
    .description('Infrastructure as code for a self-hosted anycast image CDN')
    // Not .version(text): the text is worked out only when asked for (it may run git).
    .option('-V, --version', 'print the version (and the git commit of a checkout)')
    .on('option:version', () => {
      io.out(versionText());
      throw new CommanderError(0, 'commander.version', 'version printed');
    })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError(false);
  program
    .command('render')
    .description('render every host config tree to --out/<site>/<host>/<path on host> (atomic)')
    .option('--sites <dir>', 'site model directory', 'sites')
    .option('--out <dir>', 'output directory', 'out')
    .option('--json', 'print what was written, per host, as JSON (lib/cli/schemas/render.schema.json)')
    .action((o: { sites: string; out: string; json?: boolean }) => {
      result = async () => (await import('./render.ts')).renderCommand(o, io);
    });
  program
    .command('validate')
    .description("render to a temp dir and run every daemon's own checker on every file")
    .option('--sites <dir>', 'site model directory', 'sites')
    .option('--json', 'print every checked file with its checker and result as JSON (lib/cli/schemas/validate.schema.json)')
    .action((o: { sites: string; json?: boolean }) => {
      result = async () => (await import('./validate.ts')).validateCommand(o, io);
    });
  program
    .command('plan')
    .alias('diff') // the design card's name for it: `npx anycdn diff`
    .description('what applying the model would change on each host and cloud stack, its impact, and the order to apply it in')
    .option('--sites <dir>', 'site model directory', 'sites')
    .option('--out <dir>', 'the render output whose manifest is the baseline (without --against)', 'out')
    .option('--against <git-ref|dir>', 'compare against the model at a git ref, or a directory laid out like render output')
    .option('--json', 'print the plan as JSON (schema/plan.schema.json)')
    .option('--exit-code', 'exit 2 when there are changes (0: none, 1: error)')
    .option('--no-cloud', 'skip the cloud stacks (no CDK synth)')
    .action((o: PlanOptions) => {
      result = async () => {
        const { planCommand } = await import('./plan.ts');
        return planCommand(o, io, io.color?.out ?? false);
      };
    });
  program
    .command('graph')
    .description('draw the topology as SVG: sites, hosts and roles, VIPs, BGP upstreams, anycast prefixes, shield and origin')
    .option('--sites <dir>', 'site model directory', 'sites')
    .option('--out <file>', 'SVG file to write, or - for standard output', 'topology.svg')
    .option('--lab', "also draw the lab's routers, core and clients")
    .action((o: { sites: string; out: string; lab?: boolean }) => {
      result = async () => (await import('./graph.ts')).graphCommand(o, io);
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
      .option('--role <role>', 'only this role of a host with several (lb, dns or cache): `--role lb` moves the VIP and keeps its DNS announcements')
      .action((target: string, o: DrainOptions) => {
        result = async () => (await import('./drain.ts')).drainCommand(direction, target, o, io);
      });
  }
  const lab = program.command('lab').description('run the whole CDN in network namespaces on this machine (root)');
  lab
    .command('up')
    .description('build every site, router, client and the origin, start the rendered daemons')
    .option('--sites <dir>', 'site model directory', 'sites')
    .action((o: { sites: string }) => {
      result = async () => (await import('./lab.ts')).labUpCommand(o, io);
    });
  lab
    .command('status')
    .description('what each nearby client sees: anycast DNS answer, NSID, VIP health, routes')
    .option('--json', 'print the status as JSON (lib/cli/schemas/lab-status.schema.json)')
    .action((o: { json?: boolean }) => {
      result = async () => (await import('./lab.ts')).labStatusCommand(o, io);
    });
  lab
    .command('down')
    .description('stop everything `up` started and remove its namespaces (safe after a crash)')
    .action(() => {
      result = async () => (await import('./lab.ts')).labDownCommand(io);
    });
  return { program, result: () => result };
}

/** The exit code of a failed command, after saying why on stderr. */
function failure(e: unknown, argv: string[], io: Io): number {
  if (e instanceof CommanderError) {
    // plan keeps 2 for "changes" (--exit-code), so its bad usage is an error like any other: 1.
    return e.exitCode === 0 ? EXIT.ok : ['plan', 'diff'].includes(argv[0] ?? '') ? EXIT.invalid : EXIT.usage;
  }
  if (e instanceof InputError) {
    printDiagnostics(io, e.diagnostics);
    return EXIT.invalid;
  }
  if (isSystemError(e)) {
    io.err(`${e.path ?? ''}:1:1: cannot ${SYSCALL_WORDS[e.syscall ?? ''] ?? 'use it'}: ${fsReason(e)}; check the path and its permissions`);
    io.err('1 error');
    return EXIT.invalid;
  }
  io.err(`anycdn: internal error, please report it with this trace:\n${(e as Error).stack ?? String(e)}`);
  return EXIT.internal;
}

/** Node's system call names in words, so no `scandir` or `mkdtemp` reaches the user. */
const SYSCALL_WORDS: Record<string, string> = {
  open: 'open it',
  read: 'read it',
  write: 'write it',
  scandir: 'list it',
  opendir: 'list it',
  stat: 'look at it',
  lstat: 'look at it',
  realpath: 'resolve it',
  mkdir: 'create the directory',
  mkdtemp: 'create a temporary directory in it',
  rename: 'rename it',
  rmdir: 'remove it',
  unlink: 'remove it',
  rm: 'remove it',
  copyfile: 'copy it',
  chmod: 'change its mode',
  utime: 'touch it',
};

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}
