// The documented shapes of `--json` output (render, validate, lab status). The JSON Schema files
// under lib/cli/schemas/ are generated from these (`npm run schema`; a test fails when they are
// stale), and the CLI tests check real output against them. A change here is a change of the CLI
// contract: add fields, never rename or remove one.
import * as z from 'zod';

const diagnostic = z
  .object({
    file: z.string().describe('The file the problem is in: <site>/<host>/<path on the host> for a rendered file'),
    line: z.number().int().min(1),
    col: z.number().int().min(1),
    message: z.string().describe('What is wrong, naming the value and the fix'),
  })
  .strict();

export const renderOutput = z
  .object({
    out: z.string().describe('The --out directory, absolute'),
    sites: z.number().int().min(0),
    files: z.number().int().min(0).describe('Files written, all hosts'),
    hosts: z
      .array(
        z
          .object({
            site: z.string(),
            host: z.string(),
            dir: z.string().describe('Where this host tree is: <out>/<site>/<host>, absolute'),
            files: z
              .array(
                z
                  .object({
                    path: z.string().describe('Absolute path on the host, such as /etc/bird/bird.conf'),
                    mode: z.string().regex(/^0[0-7]{3}$/).describe('File mode in octal, such as 0644'),
                    bytes: z.number().int().min(0),
                  })
                  .strict(),
              )
              .describe('Sorted by path'),
          })
          .strict(),
      )
      .describe('Sorted by site, then host'),
    other: z
      .array(
        z
          .object({
            path: z.string().describe('Relative to out, such as routing/roas.txt or .anycdn/manifest.json'),
            bytes: z.number().int().min(0),
          })
          .strict(),
      )
      .describe("The files that are no host's: the routing paperwork (routing/) and the record of this render (.anycdn/manifest.json), sorted by path"),
  })
  .strict()
  .describe('anycdn render --json: what was written, per host, and the files that are no host\'s');

export const validateOutput = z
  .object({
    ok: z.boolean().describe('True when every file passed its checker and nothing else went wrong'),
    files: z
      .array(
        z
          .object({
            file: z.string().describe('<site>/<host>/<path on the host>'),
            site: z.string(),
            host: z.string(),
            path: z.string().describe('Absolute path on the host'),
            checker: z.string().describe('Which checker ran: bird, knot, zone, haproxy, keepalived, nginx, squid, shell, node, healthcheck, systemd, sysctl'),
            result: z.enum(['pass', 'fail']),
            message: z.string().optional().describe('Present when the file failed: its problems, one per line'),
          })
          .strict(),
      )
      .describe('Every checked file, sorted by file'),
    errors: z.array(diagnostic).describe('Every problem, sorted: those of the files above, and those of no single checked file (a missing checker)'),
  })
  .strict()
  .describe('anycdn validate --json: every checked file with its checker and result');

export const labStatusOutput = z
  .object({
    running: z.boolean(),
    startedAt: z.string().optional().describe('ISO 8601 time `lab up` started'),
    namespaces: z.number().int().min(0).optional(),
    processes: z.number().int().min(0).optional(),
    sites: z
      .array(
        z
          .object({
            site: z.string(),
            vipHealth: z.number().int().describe('HTTP status of the site VIP health path from the nearby client; 0 when nothing answered'),
            serving: z.boolean().describe('vipHealth is 200'),
            dnsAnswer: z.string().optional().describe('What the nearby client got for the image host from the anycast DNS'),
            nsid: z.string().optional().describe('NSID of the answering server: <site>/<host>'),
            anycastVia: z.array(z.string()).describe('Next hops of the anycast route at the site router'),
            vipHolder: z.string().optional().describe('The lb host whose namespace holds the VIP; absent when none does'),
            checkers: z
              .array(z.object({ host: z.string(), state: z.string().describe('announced, depreferred, withdrawn, draining, drained, or "not running"') }).strict())
              .describe("Each DNS host's health checker and its announcement state"),
            bfd: z
              .array(
                z
                  .object({
                    host: z.string(),
                    peer: z.string().describe('bgp.peers[].name'),
                    address: z.string(),
                    state: z.string().describe('Up, Down, Init, AdminDown as bird reports it; "no session" when bird has none for the peer; "unknown" when bird did not answer'),
                  })
                  .strict(),
              )
              .describe('Each BFD session the model configures, at each host that runs bird. BGP stays up without BFD: a session that is not Up means failover waits for the hold timer.'),
          })
          .strict(),
      )
      .describe('Empty when the lab is not running'),
  })
  .strict()
  .describe('anycdn lab status --json');

export const CLI_SCHEMA_FILES = {
  'lib/cli/schemas/render.schema.json': renderOutput,
  'lib/cli/schemas/validate.schema.json': validateOutput,
  'lib/cli/schemas/lab-status.schema.json': labStatusOutput,
} as const;

export type RenderOutput = z.output<typeof renderOutput>;
export type ValidateOutput = z.output<typeof validateOutput>;
export type LabStatusOutput = z.output<typeof labStatusOutput>;

/** File name -> JSON text, exactly as committed. */
export function cliSchemaTexts(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(CLI_SCHEMA_FILES).map(([file, schema]) => [file, `${JSON.stringify(z.toJSONSchema(schema, { io: 'output', target: 'draft-7' }), null, 2)}\n`]),
  );
}
