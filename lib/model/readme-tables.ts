// The model tables of docs/model.md (field, meaning, default), generated from the published JSON Schema
// of the zod schema, so a default or a meaning is written once, in lib/model/schema.ts.
// `npm run schema` rewrites them between their markers; test/model/json-schema.test.ts fails when
// docs/model.md is stale.
import { jsonSchemas } from './json-schema.ts';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
};

/** The docs/model.md marker name of each table, and the schema file it comes from. */
export const README_TABLES = {
  'cdn fields': 'schema/cdn.schema.json',
  'site fields': 'schema/site.schema.json',
} as const;

const begin = (name: string) => `<!-- BEGIN generated: ${name} (npm run schema; edit lib/model/schema.ts, not this table) -->`;
const end = (name: string) => `<!-- END generated: ${name} -->`;

/** One markdown table: a row per field, nested fields by dotted path, list items as `[]`. */
export function fieldTable(schema: JsonSchema): string {
  const rows: string[] = [];
  walk(schema, '', undefined, rows);
  return ['| field | meaning | default |', '| --- | --- | --- |', ...rows].join('\n');
}

/**
 * `within`: the optional object this one sits in (its required fields are required only when it
 * is given), or undefined at the top level and inside list items.
 */
function walk(node: JsonSchema, path: string, within: string | undefined, rows: string[]): void {
  const required = new Set(node.required ?? []);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (key === '$schema') continue;
    const field = path === '' ? key : `${path}.${key}`;
    const isRequired = required.has(key) && child.default === undefined;
    if (isObject(child)) {
      // An object is a heading, not a row: its fields say what it holds and what they default to.
      walk(child, field, isRequired ? within : field, rows);
      continue;
    }
    rows.push(row(field, child, isRequired ? (within ? `required in \`${within}\`` : 'required') : defaultText(key, child.default)));
    if (child.type === 'array' && child.items && isObject(child.items)) walk(child.items, `${field}[]`, undefined, rows);
  }
}

function isObject(node: JsonSchema): boolean {
  return node.type === 'object' && node.properties !== undefined;
}

function row(field: string, node: JsonSchema, dflt: string): string {
  if (!node.description) throw new Error(`internal: ${field} has no .describe() in lib/model/schema.ts; say what it means there`);
  return `| \`${field}\` | ${cell(node.description)} | ${dflt} |`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A default as an operator reads it: plain numbers with a human size or duration, words in code. */
function defaultText(key: string, value: unknown): string {
  if (value === undefined) return 'optional';
  if (typeof value === 'number') return `${value}${human(key, value)}`;
  return `\`${flow(value)}\``;
}

function human(key: string, n: number): string {
  const units: [string, [number, string][]][] = [
    ['Sec', [[86400, 'd'], [3600, 'h'], [60, 'min']]],
    ['MiB', [[1024 * 1024, 'TiB'], [1024, 'GiB']]],
  ];
  for (const [suffix, steps] of units) {
    if (!key.endsWith(suffix)) continue;
    const step = steps.find(([size]) => n >= size && n % size === 0);
    return step ? ` (${n / step[0]} ${step[1]})` : '';
  }
  return '';
}

/** YAML flow style, as an operator would write the value: `{delaySec: 10}`, `[]`, `/healthz`. */
function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${flow(v)}`).join(', ')}}`;
  return String(value);
}

/** `readme` with every generated table replaced by the current one. */
export function updateReadme(readme: string): string {
  const schemas = jsonSchemas();
  let out = readme;
  for (const [name, file] of Object.entries(README_TABLES)) {
    const from = out.indexOf(begin(name));
    const to = out.indexOf(end(name));
    if (from < 0 || to < from) throw new Error(`internal: docs/model.md has no ${begin(name)} ... ${end(name)} markers`);
    out = `${out.slice(0, from)}${begin(name)}\n${fieldTable(schemas[file] as JsonSchema)}\n${out.slice(to)}`;
  }
  return out;
}
