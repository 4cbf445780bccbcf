// The human-readable plan. Colour only when the caller says so (a TTY without NO_COLOR, decided
// in the CLI); the words carry everything, colour only helps the eye.
import { assumedVersion, IMPACTS, type ImpactClass } from './impact.ts';
import type { Plan } from './types.ts';

const CODES = { bold: 1, red: 31, green: 32, yellow: 33, cyan: 36, dim: 2 } as const;
type Style = keyof typeof CODES;

export function formatPlan(plan: Plan, colour: boolean): string[] {
  const c = (style: Style, s: string) => (colour ? `\u001b[${CODES[style]}m${s}\u001b[0m` : s);
  const cls = (k: ImpactClass) => {
    const rank = IMPACTS[k].rank;
    return c(rank >= 4 ? 'red' : rank >= 3 ? 'yellow' : 'cyan', k);
  };
  const diffLines = (diff: string, indent: string) =>
    diff
      .replace(/\n$/, '')
      .split('\n')
      .filter((l) => diff !== '' && l !== '\\ No newline at end of file')
      .map((l) => indent + (l.startsWith('+++') || l.startsWith('---') ? c('bold', l) : l.startsWith('+') ? c('green', l) : l.startsWith('-') ? c('red', l) : l.startsWith('@@') ? c('cyan', l) : l));

  const b = plan.baseline;
  const out: string[] = [`anycdn plan: against ${b.source}${b.commit ? ` (model commit ${b.commit.slice(0, 12)})` : ''}`];
  for (const w of plan.warnings) out.push(c('yellow', `warning: ${w}`));
  if (!plan.changes) {
    out.push('', `No changes. The rendered hosts${plan.cloudSkipped ? '' : ' and the cloud stacks'} match the baseline.`);
    if (plan.cloudSkipped) out.push(`Cloud stacks not compared: ${plan.cloudSkipped}.`);
    return out;
  }

  // What needs attention first: replacements, broadenings, interruptions, resets, cache loss.
  const attention: string[] = [];
  for (const cc of plan.cloud) for (const i of cc.impacts) if (IMPACTS[i.class].rank >= 3) attention.push(`${cls(i.class)}  ${cc.stack} ${i.resource}: ${i.reason}`);
  for (const s of plan.sites)
    for (const h of s.hosts) {
      // An aws host's restart is listed once: from its stack's diff when the stacks were compared.
      const stackSaysSo = plan.cloud.some((cc) => cc.stack === `anycdn-${s.site}`);
      for (const i of h.impacts) if (IMPACTS[i.class].rank >= 3 && !(stackSaysSo && i.class === 'cloud-interruption')) attention.push(`${cls(i.class)}  ${s.site}/${h.host}: ${i.reason}`);
      for (const d of h.daemons) for (const i of d.impacts) if (IMPACTS[i.class].rank >= 3) attention.push(`${cls(i.class)}  ${s.site}/${h.host} ${d.unit}: ${i.reason}`);
    }
  if (attention.length) out.push('', c('bold', 'Needs attention (replacements and broadenings first):'), ...sortAttention(attention).map((l) => `  ${l}`));

  if (plan.cloud.length || plan.cloudSkipped) {
    out.push('', c('bold', 'Cloud stacks'));
    if (plan.cloudSkipped) out.push(`  not compared: ${plan.cloudSkipped}`);
    for (const cc of plan.cloud) {
      out.push(`  ${c('bold', cc.stack)} [${cls(cc.impact)}]`);
      for (const i of cc.impacts) out.push(`    ${cls(i.class)}  ${i.resource}: ${i.reason}`);
      if (cc.diff) out.push(...cc.diff.replace(/\n$/, '').split('\n').map((l) => `    | ${l}`));
    }
  }

  out.push('', c('bold', 'Hosts (site > host > daemon)'));
  for (const s of plan.sites) {
    out.push(`site ${c('bold', s.site)} (${s.platform})`);
    for (const h of s.hosts) {
      out.push(`  host ${c('bold', h.host)} ${h.status} [${cls(h.impact)}]`);
      for (const i of h.impacts) out.push(`    ${cls(i.class)}  ${i.reason}`);
      for (const f of h.files) out.push(`    ${h.status === 'added' ? '+' : '-'} ${f}`);
      for (const d of h.daemons) {
        out.push(`    daemon ${c('bold', d.unit)} ${d.status} [${cls(d.impact)}]`);
        for (const i of d.impacts) out.push(`      ${cls(i.class)}  ${i.reason}`);
        for (const f of d.files) {
          const mode =
            f.status === 'changed' && f.modeBefore !== undefined ? ` (mode ${f.modeBefore} -> ${f.modeAfter})` : f.status === 'added' && f.modeAfter !== '0644' ? ` (mode ${f.modeAfter})` : '';
          out.push(`      file ${f.path} ${f.status}${mode}`);
          out.push(...diffLines(f.diff, '        '));
        }
      }
    }
  }

  if (plan.routing.length > 0) {
    out.push('', c('bold', 'Routing paperwork (out/routing/)'));
    for (const f of plan.routing) {
      out.push(`  file ${f.path} ${f.status}`);
      out.push(...diffLines(f.diff, '    '));
    }
  }

  out.push('', c('bold', 'Apply in this order'));
  for (const s of plan.steps) {
    out.push(`  ${s.n}. ${s.title} [${cls(s.impact)}]${s.drainFirst ? c('yellow', ' drain first') : ''}`);
    if (s.classes.length > 1) out.push(`     classes: ${s.classes.map(cls).join(', ')}`);
    for (const a of s.actions) out.push(`     $ ${a}`);
  }

  const used = new Set<ImpactClass>(plan.steps.flatMap((s) => s.classes));
  out.push('', c('bold', 'Impact classes'));
  for (const k of [...used].sort((x, y) => IMPACTS[y].rank - IMPACTS[x].rank || (x < y ? -1 : 1))) {
    const v = assumedVersion(k);
    out.push(`  ${cls(k)}: ${IMPACTS[k].effect}${v ? ` (assumes ${v}, Debian 12)` : ''}`);
  }
  const n = plan.summary;
  const count = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  out.push('', `Plan: ${count(n.files, 'file')} on ${count(n.hosts, 'host')} in ${count(n.sites, 'site')}, ${count(n.cloudStacks, 'cloud stack')}; ${count(plan.steps.length, 'step')}.`);
  return out;
}

/** Replacements, then broadenings, then the rest, each group in its own order. */
function sortAttention(lines: string[]): string[] {
  const rank = (l: string) => (l.includes('cloud-replacement') ? 0 : l.includes('cloud-broadening') ? 1 : 2);
  return lines.map((l, i) => ({ l, i })).sort((a, b) => rank(a.l) - rank(b.l) || a.i - b.i).map((x) => x.l);
}
