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
