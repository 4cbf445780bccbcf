// origin: the list is in priority order, and every entry must be worth trying. No two entries
// reach the same place (the second would only repeat the first one's failure); an HTTP origin's
// port is a real port and never the image host itself (a loop through the CDN); at most two S3
// buckets (the one anycdn-origin owns and its replica), in different regions (a replica in the
// same region shares the outage it is there for).
import { originEntries, targetOf } from '../facts.ts';
import type { Rule } from './types.ts';

export const origins: Rule = (t, report) => {
  const entries = originEntries(t.cdn);
  const list = Array.isArray(t.cdn.origin);
  const at = (i: number, ...rest: string[]) => (list ? ['origin', i, ...rest] : ['origin', ...rest]);
  const name = (i: number, ...rest: string[]) => [list ? `origin[${i}]` : 'origin', ...rest].join('.');
  const seen = new Map<string, number>();
  entries.forEach((o, i) => {
    const target = targetOf(o);
    if ('http' in o) {
      if (target.port < 1 || target.port > 65535) {
        report(null, at(i, 'http', 'url'), `${name(i, 'http', 'url')}: port ${target.port} is not 1..65535, got ${o.http.url}; fix the port`);
        return;
      }
      if (target.host === t.cdn.imageHost) {
        report(null, at(i, 'http', 'url'), `${name(i, 'http', 'url')}: ${o.http.url} is the image host itself, so a miss would loop through the CDN; name the server behind it`);
      }
    }
    const key = `${target.host}:${target.port}`;
    const first = seen.get(key);
    const field = 's3' in o ? name(i, 's3', 'bucket') : name(i, 'http', 'url');
    const path = 's3' in o ? at(i, 's3', 'bucket') : at(i, 'http', 'url');
    if (first !== undefined) {
      report(null, path, `${field}: ${key} is already origin[${first}]; each origin must be a different server, remove this one or point it elsewhere`);
    } else seen.set(key, i);
  });
  const s3 = entries.map((o, i) => [o, i] as const).filter(([o]) => 's3' in o) as [{ s3: { bucket: string; region: string } }, number][];
  for (const [o, i] of s3.slice(2)) {
    report(null, at(i, 's3', 'bucket'), `${name(i, 's3', 'bucket')}: ${o.s3.bucket} is a third S3 origin; anycdn-origin owns the first and replicates it to the second only, so list an HTTP origin here or remove it`);
  }
  const [primary, replica] = s3;
  if (primary && replica && primary[0].s3.region === replica[0].s3.region) {
    report(
      null,
      at(replica[1], 's3', 'region'),
      `${name(replica[1], 's3', 'region')}: ${replica[0].s3.region} is the region of the primary bucket ${primary[0].s3.bucket}, so one regional outage takes both; put the replica in another region`,
    );
  }
};
