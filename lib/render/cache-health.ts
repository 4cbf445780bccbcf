// How haproxy health-checks a cache: a path each cache engine answers by itself, without the
// origin, so an origin outage never marks the caches down.
export interface CacheHealthCheck {
  path: string;
  expectStatus: number;
}

export const CACHE_HEALTH: Record<'nginx' | 'squid', CacheHealthCheck> = {
  nginx: { path: '/.anycdn/health', expectStatus: 200 },
  // Squid serves its internal static icons itself (global_internal_static on), also in accel mode
  // with the origin down (test/e2e/cache-security.test.ts shows it); squid.conf allows exactly
  // this path in http_access (acl cache_health), since the request's URL names no image host.
  squid: { path: '/squid-internal-static/icons/SN.png', expectStatus: 200 },
};
