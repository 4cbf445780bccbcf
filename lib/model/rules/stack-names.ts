// Stacks are named by site id next to the shared ones (anycdn-origin, anycdn-origin-replica,
// anycdn-global; Pulumi stacks origin, origin-replica and global), so no site may take one of those names.
import type { Rule } from './types.ts';

/** The shared stacks' names; lib/cloud/stacks.ts names them ORIGIN, ORIGIN_REPLICA and GLOBAL (a test keeps both equal). */
export const SHARED_STACK_NAMES: readonly string[] = ['origin', 'origin-replica', 'global'];

export const stackNames: Rule = (t, report) => {
  for (const site of t.sites) {
    if (SHARED_STACK_NAMES.includes(site.id)) {
      report(site.id, ['id'], `id: ${site.id} is the name of a stack of its own (anycdn-${site.id}); pick another site id`);
    }
  }
};
