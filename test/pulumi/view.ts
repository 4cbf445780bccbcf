// One normalized view of a stack that both backends map to: what must be equal between the CDK
// template and the Pulumi resources. References become symbols (<subnet:10.30.0.0/24>,
// <sg:lb>, <instance:sin-lb1>, <bundle:sin-lb1>, <config-bucket>), so the view says what points
// where, not which backend named it. A bundle symbol names the host whose rendered bundle has
// exactly the published bytes (<bundle:unknown sha256=...> otherwise).
//
// Left out on purpose, because only one backend has them: CDK's own machinery (the cross-region
// export writer and reader, the flow log's generated role) and the Pulumi site stacks' config
// buckets, which carry the bundles that CDK publishes through its asset bucket. Both sides' bundle
// objects are compared by their bytes instead.

export interface HostView {
  /** The address the bootstrap claims, and any the instance pins itself (none, for replacement safety). */
  address: string;
  /** The AMI and the replacement key the instance is named by (lib/cloud/rollout.ts). */
  image: string;
  /** Ports forwarded from the primary address to the model address (dns hosts). */
  forward: string;
  subnet: string;
  /** Whether the instance asks for a public address of its own ("none" is the rule). */
  publicIp: string;
  /** The second interface: its subnet and device index (docs/deploy-cdk.md "Network and egress"). */
  egress: string;
  instanceType: string;
  groups: string[];
  /** IMDS: endpoint, tokens, hop limit. */
  metadata: string;
  /** Root volume: size, type, encryption. */
  rootVolume: string;
  monitoring: boolean;
  disableApiTermination: boolean;
  rolePath: string;
  managedPolicies: string[];
  packages: string;
  units: string;
}

export interface BundleView {
  /** sha256 of the bytes the stack publishes for the host. */
  published: string;
  /** The sha256 the host checks before unpacking (user data, or the bundle pointer parameter). */
  verified: string;
}

export interface StackView {
  hosts?: Record<string, HostView>;
  /** VPC, subnets (prefix, zone, public addresses), routes and flow logs, one line each. */
  network?: string[];
  /** group -> description and rules ("in tcp/80-80 from 0.0.0.0/0", "out vrrp to <sg:lb>"). */
  securityGroups?: Record<string, { description: string; rules: string[] }>;
  /** principal -> canonical statements. */
  iam: Record<string, string[]>;
  bundles: Record<string, BundleView>;
  /** Metal sites: the SSM parameters pointing each host at its bundle, "<name> <type> -> <bundle:host>". */
  bundlePointers?: string[];
  buckets?: Record<string, string>;
  healthCheck?: string;
  alarm?: string;
  /** Route 53 records in the parent zone: "NS cdn.example.net. ttl 3600 in Z... -> a,b". */
  delegation?: string[];
  accelerator?: { name: string; ipAddresses: string[]; listeners: string[]; endpointGroups: Record<string, { healthCheck: string; endpoints: string[] }> };
}

export interface RawStatement {
  Sid?: unknown;
  Effect: unknown;
  Principal?: unknown;
  Action: unknown;
  Resource: unknown;
  Condition?: unknown;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** A statement as one line: effect, sid, principal, sorted actions and resources, condition. */
export function statementLine(st: RawStatement): string {
  const parts = [
    `${String(st.Effect)}${st.Sid ? ` ${String(st.Sid)}` : ''}`,
    ...(st.Principal !== undefined ? [`principal ${canonical(st.Principal)}`] : []),
    `actions ${list(st.Action).map(String).sort().join(',')}`,
    `on ${list(st.Resource).map(String).sort().join(' ')}`,
    ...(st.Condition !== undefined ? [`if ${canonical(st.Condition)}`] : []),
  ];
  return parts.join(' | ');
}

/** JSON with sorted keys. */
export function canonical(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}

/** Every difference between two views, one line each: `path: only in cdk: X`, `path: cdk X, pulumi Y`. */
export function compareViews(cdk: StackView, pulumi: StackView): string[] {
  const out: string[] = [];
  walk('', sortKeys(cdk), sortKeys(pulumi), out);
  return out;
}

function walk(path: string, a: unknown, b: unknown, out: string[]): void {
  if (Array.isArray(a) && Array.isArray(b) && [...a, ...b].every((x) => typeof x === 'string')) {
    const sa = new Set(a as string[]);
    const sb = new Set(b as string[]);
    const before = out.length;
    for (const x of sa) if (!sb.has(x)) out.push(`${path}: only in cdk: ${x}`);
    for (const x of sb) if (!sa.has(x)) out.push(`${path}: only in pulumi: ${x}`);
    if (out.length === before && a.length !== b.length) out.push(`${path}: cdk has ${a.length} entries, pulumi ${b.length} (duplicates)`);
    return;
  }
  const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    for (const k of [...new Set([...ka, ...kb])].sort()) {
      const p = path ? `${path}.${k}` : k;
      if (!kb.includes(k)) out.push(`${p}: only in cdk: ${canonical((a as Record<string, unknown>)[k])}`);
      else if (!ka.includes(k)) out.push(`${p}: only in pulumi: ${canonical((b as Record<string, unknown>)[k])}`);
      else walk(p, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out);
    }
    return;
  }
  if (canonical(a) !== canonical(b)) out.push(`${path}: cdk ${canonical(a)}, pulumi ${canonical(b)}`);
}

/** The view as snapshot text: sorted keys, bundle hashes named by host so configs don't churn it. */
export function viewText(view: StackView, bundles: { host: string; sha256: string }[]): string {
  let text = JSON.stringify(sortKeys(view), null, 2);
  for (const b of bundles) text = text.replaceAll(b.sha256, `<sha256:${b.host}>`);
  return `${text}\n`;
}
