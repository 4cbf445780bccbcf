// Edits of the shipped sites that `validate` accepts and the lab once refused, shared by the lab's
// unit tests (test/lab-unit) and the lab test that runs them (test/lab/models.test.ts). Each edit
// throws when the shipped text it rewrites has changed, so it never silently edits nothing.

type Texts = Record<string, string>;

function replace(texts: Texts, file: string, from: string, to: string): void {
  const text = texts[file];
  if (text === undefined || !text.includes(from)) throw new Error(`lab model edit: ${file} no longer holds ${JSON.stringify(from)}`);
  texts[file] = text.replace(from, to);
}

/** The multihop carrier: nyc's IPv4 upstream peers from its own router, outside nyc's subnets, two hops away. */
export const CARRIER = { site: 'nyc', name: 'carrier', address: '198.18.20.1', asn: 64602, multihop: 2 };

export function multihopCarrier(texts: Texts): void {
  replace(
    texts,
    'sites/nyc.yaml',
    '    - name: transit1\n      address: 198.51.100.65\n      asn: 64502\n      bfd: true\n',
    `    - name: ${CARRIER.name}\n      address: ${CARRIER.address}\n      asn: ${CARRIER.asn}\n      multihop: ${CARRIER.multihop}\n      bfd: true\n`,
  );
}

/** sin (aws) with a second subnet, in which its two caches live (the lb pair stays in the VIP's). */
export const SECOND_SUBNET = { site: 'sin', name: 'public-b', prefix: '10.30.1.0/24', caches: { 'sin-cache1': '10.30.1.21', 'sin-cache2': '10.30.1.22' } };

export function awsTwoSubnets(texts: Texts): void {
  replace(texts, 'sites/sin.yaml', '  public: 10.30.0.0/24\n', `  public: 10.30.0.0/24\n  ${SECOND_SUBNET.name}: ${SECOND_SUBNET.prefix}\n`);
  replace(texts, 'sites/sin.yaml', 'address: 10.30.0.21', `address: ${SECOND_SUBNET.caches['sin-cache1']}`);
  replace(texts, 'sites/sin.yaml', 'address: 10.30.0.22', `address: ${SECOND_SUBNET.caches['sin-cache2']}`);
}

/**
 * Prepends at ams, both ways the model spells them: bgp.prepend 1 on every announcement and
 * prepend 1 more towards transit1 (IPv4). ams's IPv4 path is then 65010 65010 65010, longer
 * than nyc's through the core, so even ams's own client is answered by nyc; its IPv6 path
 * (transit1-v6, 65010 65010) ties with nyc's.
 */
export function prepends(texts: Texts): void {
  replace(texts, 'sites/ams.yaml', 'bgp:\n  peers:\n', 'bgp:\n  prepend: 1\n  peers:\n');
  replace(texts, 'sites/ams.yaml', '      communities: ["64501:100", "64501:4200000000:7"]\n', '      communities: ["64501:100", "64501:4200000000:7"]\n      prepend: 1\n');
}

/** ams's haproxy with `maxConn` connections (each lb host's unit derives its file limit from it). */
export function haproxyMaxConn(texts: Texts, maxConn: number): void {
  replace(texts, 'sites/ams.yaml', 'haproxy:\n  https:\n', `haproxy:\n  maxConn: ${maxConn}\n  https:\n`);
}

/**
 * sin, IPv4 only as every aws site is here (a metal site must have a peer of each family the
 * anycast prefixes hold, and the shipped ones are dual-stack), made a Squid site with a dedicated
 * dns host: its caches run Squid, its lb pair is lb only, and sin-dns1 (roles [dns], in the VIP's
 * subnet) runs Knot, bird and the health checker where no haproxy does.
 */
export const IPV4_SQUID = { site: 'sin', dns: 'sin-dns1', address: '10.30.0.13', lbs: ['sin-lb1', 'sin-lb2'], caches: ['sin-cache1', 'sin-cache2'] };

export function ipv4SquidSite(texts: Texts): void {
  const s = IPV4_SQUID;
  for (const lb of s.lbs) replace(texts, 'sites/sin.yaml', `  - name: ${lb}\n    roles: [lb, dns]\n`, `  - name: ${lb}\n    roles: [lb]\n`);
  for (const cache of s.caches) replace(texts, 'sites/sin.yaml', `  - name: ${cache}\n    roles: [cache]\n    cacheEngine: nginx\n`, `  - name: ${cache}\n    roles: [cache]\n    cacheEngine: squid\n`);
  replace(texts, 'sites/sin.yaml', `  - name: ${s.caches[0]}\n`, `  - name: ${s.dns}\n    roles: [dns]\n    address: ${s.address}\n    interface: ens5\n  - name: ${s.caches[0]}\n`);
}

/**
 * nyc written IPv6 first: its IPv6 subnet and its directly connected IPv6 upstream (transit1-v6)
 * come before the IPv4 ones, so nothing may take the first subnet or the first peer for the IPv4
 * one. With multihopCarrier, its IPv4 goes over the multihop carrier: IPv6 direct, IPv4 multihop.
 */
export function v6First(texts: Texts): void {
  replace(texts, 'sites/nyc.yaml', '  lan: 198.51.100.64/26\n  lan6: 2001:db8:b::/64\n', '  lan6: 2001:db8:b::/64\n  lan: 198.51.100.64/26\n');
  const nyc = texts['sites/nyc.yaml']!;
  const v6 = '    - name: transit1-v6\n      address: 2001:db8:b::1\n      asn: 64502\n';
  replace(texts, 'sites/nyc.yaml', v6, '');
  replace(texts, 'sites/nyc.yaml', 'bgp:\n  peers:\n', `bgp:\n  peers:\n${v6}`);
  if (texts['sites/nyc.yaml'] === nyc) throw new Error('lab model edit: nyc unchanged');
}

/** nyc-cache2 drained in the model (state: drained): weight 0 in haproxy, nyc-cache1 serves all. */
export const DRAINED_CACHE = { site: 'nyc', host: 'nyc-cache2', serving: 'nyc-cache1' };

export function drainedCache(texts: Texts): void {
  replace(texts, 'sites/nyc.yaml', `  - name: ${DRAINED_CACHE.host}\n    roles: [cache]\n`, `  - name: ${DRAINED_CACHE.host}\n    roles: [cache]\n    state: drained\n`);
}

/** Two HTTP origins in priority order, both over HTTPS on port 8443 (the shield stays at ams). */
export const HTTPS_ORIGINS = ['https://origin.cdn.example.net:8443', 'https://origin2.cdn.example.net:8443'];

export function httpsOrigins(texts: Texts): void {
  replace(texts, 'sites/cdn.yaml', 'origin:\n  s3:\n    bucket: anycdn-example-images\n    region: eu-west-1\n', `origin:\n${HTTPS_ORIGINS.map((u) => `  - http: { url: "${u}" }\n`).join('')}`);
}

/** Every edit at once: the generated model of issue 30 §6 (haproxy's maxConn is the caller's). */
export function everyModel(texts: Texts): void {
  multihopCarrier(texts);
  v6First(texts);
  awsTwoSubnets(texts);
  prepends(texts);
  ipv4SquidSite(texts);
  drainedCache(texts);
  httpsOrigins(texts);
}
