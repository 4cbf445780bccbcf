import { main } from '../lib/cli/main.ts';

// A reader that stops early (`anycdn plan | head`) closes the pipe. Writing there is then
// pointless, not an error: drop the rest quietly and end with the command's own exit code, as
// any tool in a shell pipeline does, instead of Node's unhandled EPIPE and its stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
