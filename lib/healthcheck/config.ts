// The checker's config (healthcheck.json, rendered by lib/render/healthcheck.ts) and its reader.
// parseConfig checks every field the checker uses and names the bad one with its value, so
// `--check-config` (the validate step) and a reload refuse a broken file before it is used.
import net from 'node:net';

/** One anycast prefix: its service addresses (host routes on lo) and its covering prefixes. */
export interface AnycastGroup {
  name: string;
  addresses: string[];
  prefixes: string[];
}

export type DrainScope = 'site' | 'host';

export interface KnotConfig {
  knotc: string;
  conf: string;
  zone: string;
  name: string;
  ttlSec: number;
}

export interface DrainConfig {
  requestFile: string;
  withdrawAfterSec: number;
  drained: DrainScope | 'none';
  fallback?: string;
  fallback6?: string;
  knot?: KnotConfig;
}

export interface DnsConfig {
  port: number;
  name: string;
  expect: string;
  expect6?: string;
}

export interface StatusConfig {
  address: string;
  port: number;
  path: string;
}

export type ImagePathPolicy = 'deprefer' | 'withdraw';

export interface Config {
  intervalMs: number;
  timeoutMs: number;
  fall: number;
  rise: number;
  dns: DnsConfig;
  http: { url: string; url6?: string };
  anycast: AnycastGroup[];
  onImagePathDown: ImagePathPolicy;
  bird?: { socket: string; stateFile: string };
  drain?: DrainConfig;
  statusFile?: string;
  status?: StatusConfig;
  metrics?: { path: string; allowFrom: string[] };
  /** The `ip` program (tests give a recording stand-in). */
  ipCommand?: string;
}

/** What the checker does with a prefix: on lo (announced, depreferred, draining) or off it. */
export type Announce = 'withdrawn' | 'depreferred' | 'announced' | 'draining' | 'drained';

/** An address prefix `ADDRESS/LENGTH` of either family. */
export function isPrefix(p: unknown): boolean {
  if (typeof p !== 'string') return false;
  const [addr, len, rest] = p.split('/');
  const family = net.isIP(addr ?? '');
  return family !== 0 && rest === undefined && /^\d{1,3}$/.test(len ?? '') && Number(len) <= (family === 4 ? 32 : 128);
}

/** A JSON value the reader walks; every field is checked before the whole is typed as a Config. */
type Json = { [key: string]: unknown };

/** An object (an array is one too, as `typeof` says: its named fields are then missing). */
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isPort = (v: unknown) => isInt(v) && v >= 1 && v <= 65535;

/** The value at a dotted path of the document, for the error message. */
function at(doc: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), doc);
}

/** Reads and checks the config; throws an Error whose message names the bad field. */
export function parseConfig(text: string): Config {
  const c: unknown = JSON.parse(text);
  const bad = (field: string, want: string): never => {
    throw new Error(`${field}: must be ${want}, got ${JSON.stringify(at(c, field))}`);
  };
  if (!isObject(c)) return bad('intervalMs', 'a positive integer');
  for (const k of ['intervalMs', 'timeoutMs', 'fall', 'rise']) {
    const v = c[k];
    if (!isInt(v) || v < 1) bad(k, 'a positive integer');
  }
  const dns = c.dns;
  if (!isObject(dns)) return bad('dns', 'an object');
  if (!isPort(dns.port)) bad('dns.port', 'a port number');
  if (!isString(dns.name) || !/^[A-Za-z0-9.-]{1,253}$/.test(dns.name)) bad('dns.name', 'a DNS name');
  if (!isString(dns.expect) || !net.isIPv4(dns.expect)) bad('dns.expect', 'an IPv4 address');
  if (dns.expect6 !== undefined && (!isString(dns.expect6) || !net.isIPv6(dns.expect6))) bad('dns.expect6', 'an IPv6 address');
  const http = c.http;
  if (!isObject(http) || !isString(http.url) || !/^http:\/\//.test(http.url)) return bad('http.url', 'an http:// URL');
  if (http.url6 !== undefined && (!isString(http.url6) || !/^http:\/\/\[/.test(http.url6))) bad('http.url6', 'an http://[IPv6]/ URL');
  const cidr = (p: unknown) => isString(p) && /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(p) && net.isIP(p.split('/')[0] ?? '') !== 0;
  const group = (g: unknown) =>
    isObject(g) &&
    isString(g.name) &&
    /^[a-z][a-z0-9-]{0,31}$/.test(g.name) &&
    Array.isArray(g.addresses) &&
    g.addresses.length > 0 &&
    g.addresses.every(cidr) &&
    Array.isArray(g.prefixes) &&
    g.prefixes.length > 0 &&
    g.prefixes.every(cidr);
  if (!Array.isArray(c.anycast) || c.anycast.length === 0 || !c.anycast.every(group)) {
    bad('anycast', 'a non-empty list of {name, addresses, prefixes} (addresses and prefixes in CIDR form)');
  }
  if (c.onImagePathDown !== 'deprefer' && c.onImagePathDown !== 'withdraw') bad('onImagePathDown', '"deprefer" or "withdraw"');
  if (c.bird !== undefined && (!isObject(c.bird) || !isString(c.bird.socket) || !isString(c.bird.stateFile))) bad('bird', 'an object with socket and stateFile');
  if (c.drain !== undefined) {
    const d = isObject(c.drain) ? c.drain : {};
    if (!isString(d.requestFile) || !d.requestFile.startsWith('/')) bad('drain.requestFile', 'an absolute path');
    if (!isInt(d.withdrawAfterSec) || d.withdrawAfterSec < 0) bad('drain.withdrawAfterSec', 'a whole number of seconds');
    if (d.drained !== 'site' && d.drained !== 'host' && d.drained !== 'none') bad('drain.drained', '"site", "host" or "none"');
    if (d.fallback !== undefined && (!isString(d.fallback) || net.isIP(d.fallback) === 0)) bad('drain.fallback', 'an IP address');
    if (d.fallback6 !== undefined && (!isString(d.fallback6) || !net.isIPv6(d.fallback6))) bad('drain.fallback6', 'an IPv6 address');
    const k = d.knot;
    if (k !== undefined && (!isObject(k) || !isString(k.knotc) || !isString(k.conf) || !isString(k.zone) || !isString(k.name) || !isInt(k.ttlSec))) {
      bad('drain.knot', 'an object with knotc, conf, zone, name and ttlSec');
    }
  }
  const status = c.status;
  if (status !== undefined) {
    if (!isObject(status) || !isString(status.address) || net.isIP(status.address) === 0) return bad('status.address', 'an IP address');
    if (!isPort(status.port)) bad('status.port', 'a port number');
    if (!isString(status.path) || !status.path.startsWith('/')) bad('status.path', 'an absolute URL path');
  }
  if (c.metrics !== undefined) {
    if (!isObject(status)) return bad('metrics', 'absent without status (it is served on the status endpoint)');
    const m = isObject(c.metrics) ? c.metrics : {};
    if (!isString(m.path) || !m.path.startsWith('/') || m.path === status.path) bad('metrics.path', 'an absolute URL path other than status.path');
    if (!Array.isArray(m.allowFrom) || m.allowFrom.length === 0 || !m.allowFrom.every(isPrefix)) bad('metrics.allowFrom', 'a non-empty list of prefixes');
  }
  // Every field the checker reads has been checked above; ipCommand is the tests' own.
  return c as unknown as Config;
}
