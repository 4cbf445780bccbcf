// A drain plan as the commands an operator runs on each host: exactly what --apply does.
import { shQuote } from '../render/syntax/shell.ts';
import type { Action, DrainPlan, Wait } from './plan.ts';

export function shellCommand(a: Action): string {
  switch (a.kind) {
    case 'write':
      return `echo ${shQuote(a.content.trim())} > ${a.path}`;
    case 'remove':
      return `rm -f ${a.path}`;
    case 'haproxy':
      return `echo ${shQuote(a.command)} | socat stdio ${a.socket}`;
    case 'nft':
      return `nft ${shQuote(a.script)}`;
    case 'quiesce':
      return `timeout ${a.maxMs / 1000} sh -c ${shQuote(`until [ "$(echo "show sess" | socat stdio ${a.socket} | grep -c " fe=${a.frontend} ")" -eq 0 ]; do sleep 0.05; done`)} || true`;
  }
}

export function describeWait(w: Wait): string {
  switch (w.kind) {
    case 'checker':
      return `${w.host}: the health checker says ${w.want} (cat /run/anycdn/healthcheck.state)`;
    case 'server-idle':
      return `${w.host}: no session left on ${w.backend}/${w.server} (show stat: scur 0)`;
    case 'no-vip':
      return `${w.host}: the VIP ${w.address} is gone from its interfaces`;
    case 'frontend-idle':
      return `${w.host}: no request in flight on haproxy's frontend ${w.frontend} (show sess)`;
  }
}

export function formatPlan(p: DrainPlan): string[] {
  const out = [...p.summary];
  const hosts = [...new Set(p.steps.map((s) => s.host))];
  for (const h of hosts) {
    out.push(`  on ${h}:`);
    for (const s of p.steps.filter((x) => x.host === h)) out.push(`    ${shellCommand(s.action)}    # ${s.why}`);
  }
  if (p.waits.length > 0) {
    out.push(`then wait (at most ${p.timeoutSec} s) until:`);
    for (const w of p.waits) out.push(`  ${describeWait(w)}`);
  }
  return out;
}
