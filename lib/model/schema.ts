// The site model: one global file (sites/cdn.yaml) and one file per site (sites/<id>.yaml).
// Every default is written once, on its own field, in `.default(...)`. An object whose fields all
// have defaults takes `.prefault({})`: an absent object is parsed as `{}`, so its fields' defaults
// fill it, and no second copy of them sits on the object. `.describe(...)` says what a field means,
// never its default: the published JSON Schema carries `default` to editors, and docs/model.md's
// model tables are generated from this file (lib/model/readme-tables.ts).
import * as z from 'zod';
import { isIPv4, isIPv6 } from 'node:net';
import { SAFE_TEXT, SAFE_TEXT_RULE, DNS_NAME, IDENT } from './text.ts';
import { images } from './schema-images.ts';
import { absolutePath, FILE_PATH_CHARS, pathMessage, pathProblem } from './paths.ts';
import { MAX_RING_ID } from './ring-id.ts';

const ipv4 = z.string().refine((s) => isIPv4(s), { message: 'must be an IPv4 address such as 192.0.2.10' });
const ipv6 = z.string().refine((s) => isIPv6(s), { message: 'must be an IPv6 address such as 2001:db8::10' });
const ipAny = z.string().refine((s) => isIPv4(s) || isIPv6(s), { message: 'must be an IPv4 or IPv6 address' });
const prefix = z
  .string()
  .regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { message: 'must be a prefix in CIDR form such as 192.0.2.0/24' });

const dnsName = z
  .string()
  .max(253)
  .regex(DNS_NAME, { message: 'must be a lowercase DNS name such as img.cdn.example.net (letters a-z, digits, hyphens, dots; a non-ASCII name in its xn-- form)' });
const ident = z
  .string()
  .max(32)
  .regex(IDENT, { message: 'must start with a letter and hold only lowercase letters, digits and hyphens (at most 32)' });
const safeText = z
  .string()
  .max(200)
  .regex(SAFE_TEXT, { message: SAFE_TEXT_RULE });
const asn = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(1, { message: 'must be 1..4294967295' })
  .max(4294967295, { message: 'must be 1..4294967295' });
const port = z.number().int().min(1).max(65535);
const region = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: 'must be an AWS region such as eu-west-1' });
const FILE_PATH_RULE = 'must be an absolute path of letters, digits and . _ / - (at most 200 characters)';
const cacheDir = absolutePath({ chars: FILE_PATH_CHARS, max: 200, rule: FILE_PATH_RULE });
const posInt = (max: number) => z.number().int().min(1).max(max);

/** A reference to a secret, never the secret itself. */
const SECRET_REF = /^(ssm:\/[A-Za-z0-9_.\/-]{1,1000}|secretsmanager:[A-Za-z0-9_+=.@\/-]{1,512}|file:\/[A-Za-z0-9_.\/-]{1,200})$/;
export const secretRef = z
  .string()
  .regex(SECRET_REF, {
    message: 'must be a reference: ssm:/param/name, secretsmanager:secret-name or file:/absolute/path (never the secret itself)',
  })
  // file: names a path on the host, which is normal like every other path of the model.
  .superRefine((value, ctx) => {
    const problem = SECRET_REF.test(value) && value.startsWith('file:') ? pathProblem(value.slice('file:'.length)) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: pathMessage(value, problem, 'file:'), params: { complete: true } });
  })
  .describe('Where the secret lives: ssm:/name, secretsmanager:name or file:/path. Fetched on the host at start.');

// ---------------------------------------------------------------- global (sites/cdn.yaml)

const soa = z
  .strictObject({
    serial: z.number().int().min(1).max(4294967295).default(1).describe('The first SOA serial. Each render then counts on from the serial it recorded in out/.anycdn/manifest.json: a zone whose records change gets the next one. Set a higher value to jump to it.'),
    refreshSec: posInt(2147483647).default(3600).describe('SOA refresh: how often secondaries check the serial.'),
    retrySec: posInt(2147483647).default(600).describe('SOA retry: how soon a secondary retries a failed refresh.'),
    expireSec: posInt(2147483647).default(1209600).describe('SOA expire: how long a secondary serves without a refresh.'),
    negativeTtlSec: posInt(86400).default(60).describe('SOA minimum: the negative-caching TTL.'),
  })
  .prefault({})
  .describe('SOA record fields.');

const dns = z.strictObject({
  zone: dnsName.describe('The zone the anycast DNS serves; imageHost and in-zone name servers live under it.'),
  nameservers: z.array(dnsName).min(1).max(13).describe('NS names. In-zone names get glue records at the anycast addresses.'),
  hostmaster: dnsName.describe('Mailbox of the zone admin, as a DNS name (hostmaster.example.net).'),
  ttlSec: posInt(86400).default(60).describe('TTL of the image host records; short, so a site change reaches clients fast.'),
  nsTtlSec: posInt(604800).default(3600).describe('TTL of SOA, NS and glue records.'),
  parentZone: z
    .strictObject({
      hostedZoneId: z
        .string()
        .regex(/^Z[A-Z0-9]{1,31}$/, { message: 'must be a Route 53 hosted-zone id such as Z0123456789ABCDEFGHIJ' })
        .describe('The Route 53 hosted zone of the parent zone.'),
      name: dnsName.describe('The parent zone\'s name; dns.zone must lie below it (cdn.example.net below example.net).'),
    })
    .optional()
    .describe(
      'Optional. A Route 53 parent zone in which stack anycdn-global delegates dns.zone: NS records for dns.nameservers and glue A records for the in-zone ones, at the anycast address (BYOIP) or the accelerator\'s addresses.',
    ),
  soa,
  rrl: z
    .strictObject({
      rateLimit: posInt(1000000).default(200).describe('Response-rate limiting: responses per second per client network.'),
      slip: z.number().int().min(0).max(100).default(2).describe('Response-rate limiting: every Nth limited answer is truncated, not dropped.'),
    })
    .prefault({})
    .describe('Response-rate limiting.'),
}).describe('The anycast authoritative DNS.');

// The shape only: lengths, families, host bits and which address sits where are checked by
// rules/anycast.ts, which states each rule with the value and the fix.
const cidr = z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { message: 'must be a prefix in CIDR form such as 192.0.2.0/24' });
const anycastFamily = (address: typeof ipv4, example: string, longest: number) =>
  z.strictObject({
    prefix: cidr.describe(`The covering prefix every site announces while healthy, such as ${example}; upstreams drop longer than /${longest}.`),
    address: address.describe('The service address inside the prefix: on lo of every dns host, where Knot answers and the glue points.'),
  });

const anycastPrefix = z.strictObject({
  name: ident.describe('Model key of the prefix (a, b): sites name it in bgp.announce, and bird and the health checker name it.'),
  ipv4: anycastFamily(ipv4, '192.0.2.0/24', 24).describe('The IPv4 prefix and service address.'),
  ipv6: anycastFamily(ipv6, '2001:db8:53::/48', 48).optional().describe('Optional IPv6 prefix and service address.'),
  nameservers: z
    .array(dnsName)
    .default([])
    .describe('The dns.nameservers reached at this prefix; in-zone ones get their glue at its addresses. Give each name server its own prefix (RFC 2182).'),
});

const anycast = z.strictObject({
  prefixes: z
    .array(anycastPrefix)
    .min(1)
    .max(8)
    .describe('The anycast prefixes, each with its service addresses; every in-zone name server maps to exactly one.'),
  allowLongPrefixes: z
    .boolean()
    .default(false)
    .describe('Allow IPv4 prefixes longer than /24 and IPv6 longer than /48, which the internet drops: for a lab or private peering only.'),
  allowShortPrefixes: z
    .boolean()
    .default(false)
    .describe(
      'Allow IPv4 prefixes shorter than /16 and IPv6 shorter than /32. Announced from every site, a prefix that wide takes in other networks\' addresses unless you hold all of it: set this only if you do.',
    ),
});

const healthcheck = z
  .strictObject({
    intervalMs: z.number().int().min(50).max(10000).default(150).describe('Health checker: pause between probes.'),
    timeoutMs: z.number().int().min(50).max(10000).default(250).describe('Health checker: per-probe timeout (DNS and HTTP).'),
    fall: posInt(10).default(2).describe('Health checker: consecutive failures that withdraw the prefix.'),
    rise: posInt(100).default(5).describe('Health checker: consecutive successes that announce it again.'),
    path: absolutePath({ chars: 'A-Za-z0-9._~\\/-', min: 0, max: 100, rule: 'must be an absolute URL path such as /healthz' })
      .default('/healthz')
      .describe('Path on the image VIP that answers 200 while the site serves images.'),
    onImagePathDown: z
      .enum(['deprefer', 'withdraw'])
      .default('deprefer')
      .describe(
        'What a site whose DNS answers but whose image path fails does: deprefer (keep announcing with depreferPrepend AS-path prepends and the graceful-shutdown community, so traffic prefers any healthy site but the CDN never vanishes when every site is sick) or withdraw.',
      ),
    depreferPrepend: z.number().int().min(1).max(10).default(3).describe('AS-path prepends on a depreferred announcement.'),
    statusPort: z
      .number()
      .int()
      .min(1024)
      .max(65535)
      .default(8053)
      .describe(
        "TCP port on each dns host's own address where the checker answers GET /anycast: 200 while it announces plainly, 503 otherwise (what load balancers such as Global Accelerator poll).",
      ),
  })
  .prefault({})
  .describe('The anycast health checker on every dns host.');

/** One origin: an S3 bucket (HTTPS, virtual-hosted) or an HTTP(S) base URL. */
const originEntry = z.union([
  z.strictObject({
    s3: z.strictObject({
      bucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)' }),
      region,
    }),
  }),
  z.strictObject({
    http: z.strictObject({
      url: z
        .string()
        .regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?\/?$/, { message: 'must be an origin base URL such as https://origin.example.net (no path, query or credentials)' }),
    }),
  }),
]);

/** The most origins a model may list; each one tried costs a miss up to one more connect timeout. */
export const MAX_ORIGINS = 4;

const origin = z.union([
  originEntry,
  z
    .array(originEntry)
    .min(1, { message: 'must list at least one origin' })
    .max(MAX_ORIGINS, { message: `must list at most ${MAX_ORIGINS} origins (each dead one adds a connect timeout to a miss)` }),
]);

const cache = z
  .strictObject({
    keyIncludesQuery: z.boolean().default(false).describe('Keep the query string in the cache key; without it /a.jpg?x=1 and /a.jpg are one object.'),
    validSec: z
      .record(z.string().regex(/^([1-5]\d\d|any)$/, { message: 'must be an HTTP status such as 200, or any' }), posInt(31536000))
      .default({ '200': 86400, '301': 3600, '404': 60 })
      .describe('Seconds each HTTP status (or any) stays fresh. Only the statuses listed are ever stored, by both engines; any stores every status, 5xx included.'),
    originConnectTimeoutSec: posInt(60).default(2).describe('Timeout of a connection to the origin.'),
    originReadTimeoutSec: posInt(600).default(10).describe('Timeout of a read from the origin.'),
    nginx: z
      .strictObject({
        levels: z.enum(['1', '2', '1:2', '2:2', '1:2:2']).default('1:2').describe('nginx cache directory levels.'),
        keysZoneMiB: posInt(65536).default(64).describe('nginx shared memory for keys (about 8000 keys per MiB).'),
        maxSizeGiB: posInt(1048576).default(50).describe('nginx cache disk cap.'),
        inactiveSec: posInt(31536000).default(604800).describe('nginx evicts objects unused this long.'),
        path: cacheDir.default('/var/cache/nginx/anycdn').describe('nginx cache directory.'),
      })
      .prefault({})
      .describe('Sizing of the nginx caches.'),
    squid: z
      .strictObject({
        cacheMemMiB: posInt(1048576).default(1024).describe('Squid memory cache.'),
        storeType: z.enum(['rock', 'aufs']).default('rock').describe('Squid cache_dir store type.'),
        cacheDirMiB: posInt(16777216).default(51200).describe('Squid disk cache.'),
        maximumObjectSizeMiB: posInt(4096).default(64).describe('Largest object Squid caches.'),
        path: cacheDir.default('/var/spool/squid/anycdn').describe('Squid cache directory.'),
      })
      .prefault({})
      .describe('Sizing of the Squid caches.'),
  })
  .prefault({})
  .describe('The image caches (nginx and Squid).');

// The rule that the server lies inside a scrape subnet, and the shape of those prefixes, is
// rules/monitoring.ts.
const monitoring = z
  .strictObject({
    prometheus: ipAny.describe('The Prometheus server that scrapes every host; anycdn render writes its scrape config and alert rules.'),
    scrapeFrom: z
      .array(prefix)
      .min(1)
      .max(32)
      .describe('Prefixes that may scrape the exporters (the server among them). haproxy and the health checker refuse other sources; aws sites admit only these in the security groups.'),
    scrapeIntervalSec: z.number().int().min(5).max(300).default(15).describe('How often Prometheus scrapes each exporter.'),
    hitRatioMin: z.number().min(0).max(1).default(0.5).describe('Alert when a cache (nginx or Squid) answers a smaller share of requests from cache than this (0..1), over 30 minutes.'),
    originErrorRatioMax: z.number().min(0).max(1).default(0.05).describe("Alert when a larger share than this (0..1) of a cache's fetches from the shield or origin, or of the images haproxy serves, fails, over 10 minutes."),
    runbooksUrl: z
      .string()
      .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%\/+-]*)?$/, {
        message: 'must be the http(s) URL of docs/runbooks.md as your team publishes it, such as https://git.example.net/cdn/anycdn/-/blob/main/docs/runbooks.md (no query, fragment or credentials)',
      })
      .optional()
      .describe("Where your team publishes anycdn's docs/runbooks.md: every alert's runbook_url is this URL and the alert's section. Without it, the path docs/runbooks.md in your anycdn checkout."),
  })
  .optional()
  .describe('Optional. Prometheus monitoring: with it every host runs the Debian exporters of its daemons on its own address, and render writes monitoring/prometheus/.');

// The origin AS every site announces from, and the paperwork filed for it (rules/origin-asn.ts
// says which ASNs may originate and names the fix).
const irr = z
  .strictObject({
    mntBy: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,79}$/, { message: 'must be an RPSL maintainer name such as MAINT-EXAMPLE' }))
      .min(1)
      .max(8)
      .describe('The maintainers (mnt-by:) of the route objects, such as MAINT-EXAMPLE.'),
    source: z
      .string()
      .regex(/^[A-Z][A-Z0-9-]{1,31}$/, { message: 'must be an IRR database name in capitals such as RADB or RIPE' })
      .describe('The IRR database the route objects go to (source:), such as RADB, RIPE or ARIN.'),
  })
  .optional()
  .describe('Optional. mnt-by: and source: of the RPSL route objects in out/routing/irr.rpsl; without them the file says to add both before submitting.');

const originBgp = z
  .strictObject({
    originAsn: asn.describe(
      'The one AS every site originates the anycast prefixes from: your public ASN (the ROAs and IRR objects name it). A private ASN (64512-65534, 4200000000-4294967294) only with upstreamOriginAsn.',
    ),
    upstreamOriginAsn: asn
      .optional()
      .describe(
        'Optional. The public ASN of the one upstream every site sits behind when originAsn is private: it strips the private AS and originates the prefixes itself, so the ROAs and IRR objects name this ASN.',
      ),
    irr,
  })
  .describe('The CDN\'s origin AS: one for every site, so the prefixes have one origin (no MOAS conflict) and the ROAs match what the internet sees.');

// The rules that the issuer is a host of the model and that some site serves HTTPS are
// rules/acme.ts; what the issuer, Knot and the lb hosts do with these is docs/certificates.md.
const acme = z
  .strictObject({
    directory: z
      .string()
      .regex(/^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~\/-]*)?$/, { message: 'must be an https:// URL of letters, digits and . _ ~ / - such as https://acme-v02.api.letsencrypt.org/directory' })
      .default('https://acme-v02.api.letsencrypt.org/directory')
      .describe("The ACME server's directory URL (Let's Encrypt's by default)."),
    email: z
      .string()
      .regex(/^[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$/, { message: 'must be a mail address such as hostmaster@example.net' })
      .describe('Contact address of the ACME account (expiry notices from the CA).'),
    issuer: ident.describe('The one host (any role) that runs the ACME client for the whole CDN: it must reach the ACME server and every dns host\'s address on port 53.'),
    tsigKeyRef: secretRef.describe(
      'The TSIG secret (base64, HMAC-SHA256) that lets the issuer, and only from its address, add and remove the TXT record at _acme-challenge.<imageHost> on every site\'s Knot; as a reference (ssm:/name, secretsmanager:name or file:/path).',
    ),
    certRef: secretRef.describe(
      'Where the issuer stores the certificate chain and its key (one PEM) and every lb host fetches it from: ssm:/name (a SecureString, advanced tier), secretsmanager:name or file:/path.',
    ),
    keyType: z.enum(['ec256', 'ec384', 'rsa2048', 'rsa4096']).default('ec256').describe('Key type of the certificate; a new key at every issuance.'),
  })
  .optional()
  .describe(
    "Optional. Certificates for the image host through ACME (DNS-01): one issuer for the CDN answers the challenge at every site's Knot, stores the PEM at certRef, and every lb host with haproxy.https fetches, verifies and installs it without a reload. See docs/certificates.md.",
  );

export const cdnSchema = z
  .strictObject({
    $schema: z.string().optional(),
    imageHost: dnsName.describe('The hostname clients fetch images from; must lie inside dns.zone.'),
    dns,
    anycast,
    bgp: originBgp,
    healthcheck,
    origin: origin.describe(
      `One of s3 {bucket, region} or http {url}, or a list of them (at most ${MAX_ORIGINS}) in priority order: caches try each in turn on a connect error, a timeout or a 5xx. The first S3 origin is the bucket stack anycdn-origin owns; a second one is its replica, created by anycdn-origin-replica and filled by S3 replication.`,
    ),
    cache,
    shield: ident.optional().describe('Optional site id of the origin shield: other sites fetch misses through its image VIP.'),
    images,
    monitoring,
    acme,
    internal: z
      .boolean()
      .default(false)
      .describe(
        'A deliberately internal CDN, reached only inside your own network: the anycast prefixes and the published VIPs may be private addresses (RFC 1918, RFC 6598, IPv6 unique local), and peers may be sent the scope communities NO_EXPORT, NO_ADVERTISE and NO_EXPORT_SUBCONFED. Otherwise each of these is refused, because the internet cannot reach it.',
      ),
  })
  .describe('anycdn global settings (sites/cdn.yaml)');

// ---------------------------------------------------------------- one site (sites/<id>.yaml)

/** A BGP community: standard ASN:value (16 bits each) or large a:b:c (RFC 8092, 32 bits each). */
const community = z.string().refine(
  (s) => {
    const parts = /^\d{1,10}:\d{1,10}(:\d{1,10})?$/.test(s) ? s.split(':').map(Number) : [];
    const max = parts.length === 2 ? 65535 : 4294967295;
    return parts.length > 0 && parts.every((n) => n <= max);
  },
  { message: 'must be a BGP community ASN:value (0-65535 each) or a large community a:b:c (0-4294967295 each)' },
);
const prepends = z.number().int().min(0).max(10);
/** Upstream BGP implementations whose BFD behaviour the model knows (docs/upstream-interop.md). */
export const UPSTREAM_IMPLEMENTATIONS = ['bird', 'frr', 'junos', 'iosxr', 'other'] as const;

const peer = z.strictObject({
  name: ident.describe('Model key; becomes the bird protocol name.'),
  address: ipAny.describe('The peer address, on one of the site subnets (or reachable with multihop).'),
  asn: asn.describe("The upstream's ASN (eBGP: never bgp.originAsn)."),
  passwordRef: secretRef.optional().describe('TCP-MD5 password of the session, as a reference (ssm:/name, secretsmanager:name or file:/path), fetched on the host at start.'),
  bfd: z
    .union([
      z.boolean(),
      z.strictObject({
        intervalMs: z.number().int().min(10).max(10000).default(100).describe('BFD transmit and receive interval of this session.'),
        multiplier: z.number().int().min(1).max(255).default(3).describe('Missed intervals before the session is declared down.'),
        multihop: z
          .boolean()
          .default(false)
          .describe(
            'Run RFC 5883 multihop BFD (UDP 4784) on a directly connected session, as the peer does: FRR runs it for a neighbor with ttl-security. bird then sets up the BGP session as multihop 1, which with ttlSecurity keeps GTSM at TTL 255.',
          ),
      }),
    ])
    .default(false)
    .describe('Run BFD on this session: true for 100 ms x 3, or {intervalMs, multiplier, multihop} agreed with the upstream. Each session has its own timers.'),
  multihop: z.number().int().min(2).max(255).optional().describe('eBGP multihop TTL; leave unset for a directly connected peer.'),
  ttlSecurity: z
    .boolean()
    .default(false)
    .describe('GTSM (RFC 5082, bird ttl security): accept only packets sent from one hop away; for directly connected peers, and the upstream must enable it too.'),
  implementation: z
    .enum(UPSTREAM_IMPLEMENTATIONS)
    .optional()
    .describe('What the upstream runs (bird, frr, junos, iosxr, other), when known: validate then refuses BFD settings that cannot come up with it (docs/upstream-interop.md).'),
  prepend: prepends.default(0).describe('AS-path prepends towards this peer, added to bgp.prepend (traffic engineering: make this path longer).'),
  communities: z
    .array(community)
    .max(32)
    .default([])
    .describe("BGP communities added to the announcements to this peer (ASN:value, or large a:b:c), such as the upstream's action communities."),
});

const serviceState = z.enum(['active', 'drained']).default('active');

const host = z.strictObject({
  name: ident.describe('Host name, unique across all sites.'),
  roles: z
    .array(z.enum(['lb', 'dns', 'cache']))
    .min(1)
    .describe('lb: haproxy + keepalived. dns: Knot + bird + health checker (announces anycast). cache: nginx or squid.'),
  address: ipv4.describe('The host address on the site subnet.'),
  address6: ipv6.optional().describe('Optional IPv6 host address, needed for IPv6 BGP sessions.'),
  // Linux takes any name of 1-15 bytes but "." and "..", without "/", ":" or whitespace
  // (dev_valid_name); this is the part of that every config dialect and `ip` carry unquoted:
  // VLANs (eno1.100), bridges (br-lan), names set by udev rules (lan_0).
  interface: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/, {
      message: 'must be a Linux interface name such as eth0, eno1.100 or br-lan (a letter, then letters, digits and _ . -; at most 15)',
    })
    .default('eth0')
    .describe('Interface on the site subnet: a NIC, a VLAN (eno1.100) or a bridge (br-lan).'),
  cacheEngine: z.enum(['nginx', 'squid']).optional().describe('nginx or squid; required for cache hosts.'),
  vrrpPriority: z.number().int().min(1).max(254).optional().describe('keepalived priority; when unset, 150 for the first lb host and 100 for the second.'),
  ringId: z
    .number()
    .int()
    .min(1)
    .max(MAX_RING_ID)
    .optional()
    .describe(
      "cache hosts: the haproxy server id that places this cache on the lb hosts' consistent-hash ring; when unset, derived from the name (FNV-1a into 1..524287), so other caches coming or going never move it. Set it to keep a renamed cache where it was, or to resolve two names that derive the same id.",
    ),
  state: serviceState.describe(
    'drained: out of service, gracefully. A cache leaves haproxy\'s consistent hash (weight 0, only its share moves); an lb host gives up the VIP (keepalived FAULT, the peer takes over at once); a dns host announces with the graceful-shutdown community, then withdraws after drain.withdrawAfterSec. `anycdn drain` does the same at run time.',
  ),
});

const vip = z.strictObject({
  address: ipv4.describe('The image VIP that keepalived holds and haproxy binds; inside a site subnet.'),
  address6: ipv6
    .optional()
    .describe('Optional IPv6 image VIP, inside an IPv6 site subnet: published as the AAAA record, bound by haproxy, held by a VRRPv3 IPv6 instance. Metal sites only (aws sites have no IPv6 subnet).'),
  virtualRouterId: z.number().int().min(1).max(255).describe('VRRP router id, unique per segment.'),
  advertIntervalMs: z.number().int().min(10).max(40950).default(100).describe('VRRPv3 advert interval; the backup takes the VIP after about three intervals without an advert (the measured failover is in bench/RESULTS.md).'),
  preempt: z
    .union([z.literal(false), z.strictObject({ delaySec: z.number().int().min(0).max(1000) })])
    .default({ delaySec: 10 })
    .describe('false: nopreempt. {delaySec}: preempt after the delay.'),
  elasticIp: z
    .strictObject({
      address: ipv4.describe('aws sites: the Elastic IP published in DNS for the image host.'),
      allocationId: z
        .string()
        .regex(/^eipalloc-[0-9a-f]{8,17}$/, { message: 'must be an allocation id such as eipalloc-0123abcd' })
        .describe('aws sites: its allocation id (eipalloc-...), which the VRRP master re-associates.'),
    })
    .optional()
    .describe('aws sites: the pre-allocated Elastic IP published in DNS and moved to the VRRP master.'),
});

const bgp = z
  .strictObject({
    holdTimeSec: z.number().int().min(3).max(65535).default(9).describe('BGP hold time.'),
    keepaliveTimeSec: z.number().int().min(1).max(21845).default(3).describe('BGP keepalive time; at most a third of holdTimeSec.'),
    peers: z.array(peer).max(64).default([]).describe('Upstream BGP peers (at most 64). Every dns host peers with each.'),
    prepend: prepends.default(0).describe('AS-path prepends on every announcement of this site (traffic engineering: make the site less preferred).'),
    announce: z
      .array(ident)
      .min(1)
      .optional()
      .describe('The anycast.prefixes (by name) this site announces; all of them when unset. Every name server stays announced by at least two sites.'),
  })
  .prefault({})
  .describe('BGP sessions of the dns hosts.');

// haproxy refuses 1..100 ('must be 0 or greater than 100'); it multiplies the factor by the
// outstanding requests in 32 bits, so 1000 (10x the mean, more than any site of under ten caches
// can reach) with maxConn's 1,000,000 stays far from the overflow.
const HASH_BALANCE_RULE = 'must be 0 (off) or a whole percentage 101..1000 such as 150 (each cache at most 1.5x the mean); haproxy refuses 1..100';
const hashBalanceFactor = z
  .number()
  .int({ message: HASH_BALANCE_RULE })
  .min(0, { message: HASH_BALANCE_RULE })
  .max(1000, { message: HASH_BALANCE_RULE })
  .refine((n) => n === 0 || n > 100, { message: HASH_BALANCE_RULE });

const haproxy = z
  .strictObject({
    https: z
      .strictObject({
        certPath: absolutePath({ chars: FILE_PATH_CHARS, max: 200, rule: `${FILE_PATH_RULE}, such as /etc/haproxy/certs/img.pem` }).describe(
          'PEM file (certificate chain + key) on the lb hosts for HTTPS on the VIP. With acme in cdn.yaml, anycdn-cert-fetch installs it; else the operator does.',
        ),
        redirectHttp: z.boolean().default(false).describe('Redirect HTTP to HTTPS (never on the origin shield).'),
      })
      .optional()
      .describe('Serve HTTPS on the VIP with this PEM (certificate + key). Optional redirect of HTTP.'),
    checkInterMs: z.number().int().min(100).max(60000).default(500).describe('Cache health check interval.'),
    fall: posInt(10).default(2).describe('Failed checks that take a cache out.'),
    rise: posInt(10).default(3).describe('Passed checks that bring it back.'),
    hashBalanceFactor: hashBalanceFactor
      .default(150)
      .describe(
        "Bounded-load consistent hashing (haproxy hash-balance-factor): no cache gets more outstanding requests than this percentage of the mean over the active caches; a request whose cache is full goes to the next cache on the ring, which may fetch the image too. 0 turns it off (one cache per image, however hot).",
      ),
    maxConn: posInt(1000000).default(8000).describe('Connections per lb host; each takes two file descriptors.'),
    statsAddress: ipv4.default('127.0.0.1').describe('Stats page and Prometheus exporter address; never the VIP.'),
  })
  .prefault({})
  .describe('HAProxy on the lb hosts.');

const drain = z
  .strictObject({
    withdrawAfterSec: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .default(60)
      .describe('A draining site (or dns host) announces with the graceful-shutdown community (65535:0) this long before it withdraws, so upstreams move traffic first.'),
    fallbackSite: ident
      .optional()
      .describe(
        "The nearest other site: while this site drains, its DNS answers the image host with that site's published VIP. Required when the model has more than two sites; with two, the other one.",
      ),
  })
  .prefault({})
  .describe('How the site drains (state: drained, or `anycdn drain <site>`).');

const raw = z
  .strictObject({
    bird: z.string().max(10000).optional().describe('Appended to bird.conf; checked by bird -p like the rest.'),
  })
  .prefault({})
  .describe('Escape hatch: raw snippets per daemon, still checked by the real daemon.');

export const siteSchema = z
  .strictObject({
    $schema: z.string().optional(),
    id: ident.describe('Site id, the same as the file name; stacks are named anycdn-<id>.'),
    location: safeText.describe('Free text, for humans (Amsterdam, NL).'),
    platform: z.enum(['metal', 'aws']).describe('metal: bare metal. aws: EC2 through the CDK stack anycdn-<id>.'),
    region: region.optional().describe('AWS region; required for aws sites.'),
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, { message: 'must be an availability zone name such as eu-west-1a' }))
      .min(1)
      .max(6)
      .optional()
      .describe('aws sites: availability zones of the region ([ap-southeast-1a, ap-southeast-1b]), pinned so synth never looks them up; subnets take them in name order, wrapping. Required by cdk synth and the Pulumi program.'),
    subnets: z
      .record(ident, prefix)
      .refine((r) => Object.keys(r).length >= 1, { message: 'needs at least one subnet' })
      .refine((r) => Object.keys(r).length <= 64, { message: 'takes at most 64 subnets' })
      .describe('Named prefixes of the site segment (at most 64).'),
    vip,
    bgp,
    haproxy,
    hosts: z.array(host).min(1).max(256).describe('The hosts of the site (at most 256). Every dns host peers with each bgp.peers entry.'),
    state: serviceState.describe(
      'drained: the site leaves the anycast gracefully (graceful-shutdown community, then withdrawn after drain.withdrawAfterSec) and its DNS answers with drain.fallbackSite\'s VIP meanwhile.',
    ),
    drain,
    raw,
  })
  .describe('One anycdn site (sites/<id>.yaml)');

export type Cdn = z.output<typeof cdnSchema>;
/** One entry of `origin` (the single form is a list of one). */
export type OriginEntry = z.output<typeof originEntry>;
export type Site = z.output<typeof siteSchema>;
export type Host = Site['hosts'][number];
export type Peer = Site['bgp']['peers'][number];

/** The whole validated model. Sites are sorted by id, hosts by name. */
export interface Topology {
  cdn: Cdn;
  sites: Site[];
  /** For error messages after loading: model path -> source position. */
  sources: SourceMap;
}

export interface SourceMap {
  /** The file each site came from, and the global file. */
  fileOf(siteId: string | null): string;
  /** file:line:col of a model path inside a site file (siteId) or the global file (null). */
  position(siteId: string | null, path: (string | number)[]): { file: string; line: number; col: number };
}
