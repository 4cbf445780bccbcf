// cdk.json's feature flags against the ones the installed aws-cdk-lib recommends
// (aws-cdk-lib/cx-api: CURRENTLY_RECOMMENDED_FLAGS and NEW_PROJECT_DEFAULT_CONTEXT, what `cdk init`
// writes). Each recommended flag
// is set to its recommended value, or departs on purpose: a row of the table of
// departures in docs/deploy-cdk.md (**Feature flags.**) with cdk.json's value and why.
// A new aws-cdk-lib that recommends one more flag fails here until cdk.json sets it or docs/deploy-cdk.md
// says why not; a departure that is gone, or a row whose values are not the real ones, fails too.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
/** aws-cdk-lib is CommonJS: require() loads the one submodule, not the whole package. */
const cxapi = createRequire(import.meta.url)('aws-cdk-lib/cx-api') as Record<'CURRENTLY_RECOMMENDED_FLAGS' | 'NEW_PROJECT_DEFAULT_CONTEXT', Record<string, unknown>>;
const RECOMMENDED = { ...cxapi.CURRENTLY_RECOMMENDED_FLAGS, ...cxapi.NEW_PROJECT_DEFAULT_CONTEXT };

type Departure = { cdkJson: unknown; recommended: unknown };

/** docs/deploy-cdk.md's table of departures: flag -> the values it names. */
function readmeDepartures(readme: string): Map<string, Departure> {
  const section = readme.split('**Feature flags.**')[1]?.split('\n\n').slice(0, 3).join('\n\n') ?? '';
  const rows = [...section.matchAll(/^\| `(@[^`]+)` \| `([^`]+)` \| `([^`]+)` \| [^|]+ \|$/gm)];
  return new Map(rows.map((m) => [m[1]!, { cdkJson: JSON.parse(m[2]!), recommended: JSON.parse(m[3]!) }]));
}

/** Every way cdk.json's context and the listed departures disagree with the recommended flags. */
function flagProblems(recommended: Record<string, unknown>, context: Record<string, unknown>, departures: Map<string, Departure>): string[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const problems: string[] = [];
  for (const [flag, want] of Object.entries(recommended)) {
    const listed = departures.get(flag);
    if (!(flag in context)) problems.push(`${flag}: recommended ${JSON.stringify(want)}, not set in cdk.json; set it there, or list it in docs/deploy-cdk.md with why`);
    else if (listed && !same(context[flag], listed.cdkJson)) problems.push(`${flag}: docs/deploy-cdk.md lists ${JSON.stringify(listed.cdkJson)}, cdk.json has ${JSON.stringify(context[flag])}`);
    else if (listed && !same(want, listed.recommended)) problems.push(`${flag}: docs/deploy-cdk.md says aws-cdk-lib recommends ${JSON.stringify(listed.recommended)}, it recommends ${JSON.stringify(want)}`);
    else if (listed && same(context[flag], want)) problems.push(`${flag}: listed as a departure, but cdk.json has the recommended ${JSON.stringify(want)}; take it out of docs/deploy-cdk.md`);
    else if (!listed && !same(context[flag], want)) problems.push(`${flag}: cdk.json has ${JSON.stringify(context[flag])}, recommended ${JSON.stringify(want)}; list it in docs/deploy-cdk.md with why, or set it`);
  }
  for (const flag of departures.keys()) if (!(flag in recommended)) problems.push(`${flag}: listed in docs/deploy-cdk.md, but aws-cdk-lib recommends nothing for it`);
  return problems;
}

describe('cdk.json feature flags', () => {
  const context = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const departures = readmeDepartures(readFileSync(join(ROOT, 'docs', 'deploy-cdk.md'), 'utf8'));

  it('sets every flag aws-cdk-lib recommends, or lists it in docs/deploy-cdk.md as a departure with why', () => {
    expect(Object.keys(RECOMMENDED).length).toBeGreaterThan(50);
    expect([...departures.keys()].sort()).toEqual(['@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', '@aws-cdk/core:defaultCrossStackReferences', '@aws-cdk/core:enableAdditionalMetadataCollection']);
    expect(flagProblems(RECOMMENDED, context, departures)).toEqual([]);
  });

  it('fails on a newly recommended flag, on a stale row in docs/deploy-cdk.md, and on a departure nobody listed', () => {
    const newer = { ...RECOMMENDED, '@aws-cdk/aws-future:newDefault': true };
    expect(flagProblems(newer, context, departures)).toEqual(['@aws-cdk/aws-future:newDefault: recommended true, not set in cdk.json; set it there, or list it in docs/deploy-cdk.md with why']);
    const unlisted = new Map(departures);
    unlisted.delete('@aws-cdk/core:enableAdditionalMetadataCollection');
    expect(flagProblems(RECOMMENDED, context, unlisted)).toEqual([
      '@aws-cdk/core:enableAdditionalMetadataCollection: cdk.json has false, recommended true; list it in docs/deploy-cdk.md with why, or set it',
    ]);
    const healed = { ...context, '@aws-cdk/core:enableAdditionalMetadataCollection': true };
    expect(flagProblems(RECOMMENDED, healed, departures)).toEqual([
      '@aws-cdk/core:enableAdditionalMetadataCollection: docs/deploy-cdk.md lists false, cdk.json has true',
    ]);
  });
});
