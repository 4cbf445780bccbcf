// Every rule group of anycdn-rules.yml, in file order. One file per area; a new area (say,
// certificates) is a file beside these and one line here, with its unit tests in test/alerts/.
import type { Topology } from '../../model/schema.ts';
import { anycastGroup } from './anycast.ts';
import { cacheGroup } from './cache.ts';
import { certsGroup } from './certs.ts';
import { lbGroup } from './lb.ts';
import { isAlert, type AlertRule, type RuleGroup } from './rule.ts';
import { scrapeGroup } from './scrape.ts';

const GROUPS: ((t: Topology) => RuleGroup)[] = [anycastGroup, scrapeGroup, lbGroup, cacheGroup, certsGroup];

/** The rule groups; none without `monitoring`. */
export function ruleGroups(t: Topology): RuleGroup[] {
  return t.cdn.monitoring ? GROUPS.map((g) => g(t)).filter((g) => g.rules.length > 0) : [];
}

/** Every alert of every group. */
export function alertRules(t: Topology): AlertRule[] {
  return ruleGroups(t).flatMap((g) => g.rules.filter(isAlert));
}
