// The README and docs/ held true: every relative link resolves (and its #anchor names a heading),
// every generated block is what its generator writes now, the setup line installs exactly what
// .ci/run installs, and every fenced block tagged `sh runnable` runs and exits 0.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { regenerated, replaceBlock, ROOT, setupPackages } from '../../bin/docs.ts';

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (f: string) => readFileSync(join(ROOT, f), 'utf8');

/** The text outside fenced code blocks, with inline code blanked, line numbers kept. */
function prose(md: string): string[] {
  let fence = false;
  return md.split('\n').map((l) => {
    if (/^\s*```/.test(l)) {
      fence = !fence;
      return '';
    }
    return fence ? '' : l.replace(/`[^`]*`/g, '');
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(md: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const l of md.split('\n')) {
    if (/^\s*```/.test(l)) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*)$/.exec(l);
    if (!m) continue;
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n ? `${s}-${n}` : s);
  }
  return out;
}

/** Every relative link of a file's text: `[text](target)` and `![alt](target)`, with its line. */
function links(md: string): { line: number; target: string }[] {
  return prose(md).flatMap((l, i) => [...l.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => ({ line: i + 1, target: m[1]! })))
    .filter((l) => !/^[a-z]+:/i.test(l.target));
}

/** `file:line: target: why` for each link of `md` (the text of `file`) that does not resolve. */
function brokenLinks(file: string, md: string): string[] {
  const broken: string[] = [];
  for (const { line, target } of links(md)) {
    {
      {
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const abs = path ? join(ROOT, dirname(file), decodeURIComponent(path)) : join(ROOT, file);
        if (path && !existsSync(abs)) {
          broken.push(`${file}:${line}: ${target}: no such file`);
          continue;
        }
        const headings = path ? (abs.endsWith('.md') && statSync(abs).isFile() ? anchors(readFileSync(abs, 'utf8')) : undefined) : anchors(md);
        if (anchor !== undefined && headings && !headings.has(anchor)) {
          broken.push(`${file}:${line}: ${target}: ${relative(ROOT, abs)} has no heading #${anchor}`);
        }
      }
    }
  }
  return broken;
}

describe('links', () => {
  it('every relative link in README.md and docs/*.md resolves, and each #anchor names a heading there', () => {
    expect(DOCS.flatMap((f) => brokenLinks(f, text(f)))).toEqual([]);
  });

  it('the link check finds a missing file and a missing anchor, and reads headings as GitHub does', () => {
    const md = '# The lab: the whole CDN\n## `sites/<id>.yaml`\n```\n# not a heading\n```\n[a](#the-lab-the-whole-cdn) [b](#sitesidyaml) [c](#not-a-heading) [d](no-such.md) [e](model.md#the-site-model) `[f](inline.md)` [g](https://example.net/x)\n';
    expect(brokenLinks('docs/x.md', md)).toEqual(['docs/x.md:6: #not-a-heading: docs/x.md has no heading #not-a-heading', 'docs/x.md:6: no-such.md: no such file']);
  });

  it('the README is at most about 250 lines', () => {
    expect(text('README.md').split('\n').length).toBeLessThanOrEqual(250);
  });
});

describe('generated blocks', () => {
  it('are current (run `npm run docs` if not)', () => {
    for (const [file, { before, after }] of regenerated()) expect(before, file).toBe(after);
  });

  it('refuse a file without the markers, naming them', () => {
    expect(() => replaceBlock('# nothing here\n', 'docs/cli.md', 'cli reference', 'x')).toThrow(
      'docs/cli.md has no <!-- BEGIN generated: cli reference ... --> ... <!-- END generated: cli reference --> markers',
    );
  });

  it("the README's setup line installs exactly the packages .ci/run installs", () => {
    const ci = /apt-get install[^\n]*\\\n((?:[^\n]*\\\n)*[^\n]*)/.exec(text('.ci/run'));
    expect(ci, '.ci/run has no apt-get install line').not.toBeNull();
    const installed = ci![1]!.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean).sort();
    expect(setupPackages().sort()).toEqual(installed);
    const line = /apt-get install -y --no-install-recommends ([^&\n]+) &&/.exec(text('README.md'));
    expect(line![1]!.trim().split(' ').sort()).toEqual(installed);
  });
});

describe('runnable blocks', () => {
  const blocks = DOCS.flatMap((file) => [...text(file).matchAll(/^```sh runnable\n([\s\S]*?)^```$/gm)].map((m) => ({ file, script: m[1]! })));

  it('there is at least one', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map((b, i) => [`${b.file} #${i + 1}: ${b.script.trim().split('\n')[0]}`, b] as const))('%s exits 0', { timeout: 120_000 }, (_name, b) => {
    const tmp = mkdtempSync(join(tmpdir(), 'anycdn-docs-'));
    try {
      // execFileSync throws, with the script's stderr, on a non-zero exit or the timeout.
      execFileSync('bash', ['-euo', 'pipefail', '-c', b.script], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, timeout: 110_000, stdio: ['ignore', 'pipe', 'pipe'] });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
