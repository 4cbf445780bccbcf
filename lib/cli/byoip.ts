// Whether the accelerator takes the anycast IPv4 prefixes (BYOIP): anycdn:global-byoip in the
// cdk.json `plan` synthesizes with (lib/plan/cdk-json.ts finds it from the sites directory).
// render, plan and graph need it for the ROAs (Amazon's ASNs), the plan's withdraw-first note and
// what the picture says the accelerator announces. No cdk.json, or one that does not parse
// (plan's cloud side reports that), means no BYOIP.
import { CONTEXT } from '../cdk/context.ts';
import { findCdkJson } from '../plan/cdk-json-path.ts';
import { isProblem, readInput } from '../model/read-input.ts';

export function byoipFromCdkJson(sitesDir: string): boolean {
  const file = findCdkJson(sitesDir);
  if (!file) return false;
  const text = readInput(file, { maxBytes: 1024 * 1024 });
  if (isProblem(text)) return false;
  try {
    const v = (JSON.parse(text) as { context?: Record<string, unknown> }).context?.[CONTEXT.globalByoip];
    return v === true || v === 'true';
  } catch {
    return false;
  }
}
