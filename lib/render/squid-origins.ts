// Squid: the parents a miss goes to, in the order it tries them. At sites behind a shield, the
// shield's image VIP first; then every origin of the model in priority order (lib/model/facts.ts
// originTargets). Each is a cache_peer of its own (`originserver`, its own forceddomain Host and,
// over TLS, its own certificate name and SNI: the peer's hostname).
//
// - With `never_direct allow all` and no `default` or round-robin parent, Squid picks the first
//   parent that is up, in config order, and keeps the later ones as further forwarding paths:
//   a connect error or timeout moves the miss on to the next parent.
// - retry_on_error moves a 5xx on as well (Squid re-forwards 502 and 504 anyway; 500 and 503 only
//   with it). forward_max_tries bounds the attempts per miss over all parents and their addresses.
// - connect-fail-limit marks a parent with a successor down after a few failed connects, so
//   later misses skip it (Squid probes it and brings it back), instead of each one paying the
//   connect timeout. The last parent keeps Squid's default: nothing comes after it.
// - A one-origin model renders exactly as before.
import { originName, originTargets, shieldTarget } from '../model/facts.ts';
import type { Site, Topology } from '../model/schema.ts';
import { comment, directive as d, type SquidLine } from './syntax/squid.ts';
import { derivedPeerLines } from './squid-transforms.ts';

/** Failed connects that mark a parent with a successor down. */
export const PARENT_CONNECT_FAIL_LIMIT = 2;
/**
 * Attempts per miss over every parent: each parent's addresses count one each, so this leaves room
 * for a few addresses per parent without letting a dead region's many addresses run on.
 */
const TRIES_PER_PARENT = 3;

/** The parents' names in the order Squid tries them: shield (if any), origin, origin2, ... */
export function parentNames(t: Topology, site: Site): string[] {
  return [...(shieldTarget(t, site) ? ['shield'] : []), ...originTargets(t).map((_, i) => originName(i))];
}

export function squidParents(t: Topology, site: Site): SquidLine[] {
  const c = t.cdn.cache;
  const origins = originTargets(t);
  const shield = shieldTarget(t, site);
  const names = parentNames(t, site);
  const lines: SquidLine[] = [];
  if (shield) {
    lines.push(
      comment(`Origin shield: site ${shield.site}'s image VIP first; the origin${origins.length > 1 ? 's' : ''} when the shield fails.`),
      d(
        'cache_peer',
        shield.address,
        'parent',
        shield.port,
        0,
        'no-query',
        'no-digest',
        'originserver',
        'name=shield',
        `connect-timeout=${c.originConnectTimeoutSec}`,
        `connect-fail-limit=${PARENT_CONNECT_FAIL_LIMIT}`,
      ),
    );
  }
  if (origins.length > 1) lines.push(comment('The origins in priority order: each is tried when the ones above fail.'));
  origins.forEach((o, i) => {
    lines.push(
      d(
        'cache_peer',
        o.host,
        'parent',
        o.port,
        0,
        'no-query',
        'no-digest',
        'originserver',
        `name=${originName(i)}`,
        `connect-timeout=${c.originConnectTimeoutSec}`,
        ...(i < origins.length - 1 ? [`connect-fail-limit=${PARENT_CONNECT_FAIL_LIMIT}`] : []),
        `forceddomain=${o.hostHeader}`,
        // tls-min-version= is refused by this GnuTLS build of Squid; the library's defaults apply.
        ...(o.tls ? ['tls'] : []),
      ),
    );
  });
  // Before the allow lines: a peer's first matching access line decides.
  lines.push(...derivedPeerLines(t, origins.map((_, i) => originName(i))));
  for (const p of names) lines.push(d('cache_peer_access', p, 'allow', 'image_host'), d('cache_peer_access', p, 'deny', 'all'));
  if (names.length > 1) lines.push(d('retry_on_error', 'on'));
  if (origins.length > 1) lines.push(d('forward_max_tries', TRIES_PER_PARENT * names.length));
  return lines;
}
