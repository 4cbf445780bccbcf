// lib/run.ts: what a command printed, whole characters only; its exit status as sh reports it,
// 128 + the signal's number for a signal; each stream bounded, with a line that says what it dropped.
import { describe, expect, it } from 'vitest';
import { exitStatus, run } from '../lib/run.ts';

describe('run', () => {
  it('keeps a character whose bytes arrive in two reads whole', async () => {
    // é is C3 A9 in UTF-8: the two bytes are written 100 ms apart, so they reach run() apart.
    const r = await run('/bin/sh', ['-c', "printf 'caf\\303'; sleep 0.1; printf '\\251\\n'; printf '\\342\\202' >&2; sleep 0.1; printf '\\254' >&2"]);
    expect(r).toEqual({ code: 0, stdout: 'café\n', stderr: '€' });
  });

  it('reports a signal as 128 + its number, as sh does, and a timeout as SIGKILL (137) with a note', async () => {
    expect((await run('/bin/sh', ['-c', 'kill -TERM $$'])).code).toBe(143);
    expect((await run('/bin/sh', ['-c', 'kill -HUP $$'])).code).toBe(129);
    const slow = await run('/bin/sh', ['-c', 'echo started >&2; exec sleep 30'], { timeoutMs: 300 });
    expect(slow).toEqual({ code: 137, stdout: '', stderr: 'started\n\n(killed after 300 ms)' });
    expect([exitStatus(3, null), exitStatus(null, 'SIGKILL'), exitStatus(null, null)]).toEqual([3, 137, 1]);
  });

  it('keeps the first maxBytes of each stream, says how much more it dropped, and lets the command finish', async () => {
    const r = await run('/bin/sh', ['-c', "head -c 100000 /dev/zero | tr '\\0' a; echo done >&2; exit 3"], { maxBytes: 1000 });
    expect(r).toEqual({ code: 3, stdout: `${'a'.repeat(1000)}\n[output truncated: 99000 more bytes after the first 1000]\n`, stderr: 'done\n' });
  });

  it('says 127 and why for a command that cannot start', async () => {
    expect(await run('/nonexistent/anycdn-test', [])).toEqual({ code: 127, stdout: '', stderr: 'spawn /nonexistent/anycdn-test ENOENT' });
  });
});
