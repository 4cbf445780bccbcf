// Whether the accelerator takes the anycast IPv4 prefixes (BYOIP): cdk.json's anycdn:global-byoip,
// the same setting `cdk synth` reads. render and plan need it for the ROAs (Amazon's ASNs) and the
// plan's withdraw-first note; a missing or unreadable cdk.json means no BYOIP.
import { existsSync, readFileSync } from 'node:fs';
import { CONTEXT } from '../cdk/context.ts';

export function byoipFromCdkJson(file = 'cdk.json'): boolean {
  if (!existsSync(file)) return false;
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context?.[CONTEXT.globalByoip];
    return v === true || v === 'true';
  } catch {
    return false;
  }
}
