// The checker's log: one line on stderr per event (systemd's journal keeps it), never per probe.
export function log(msg: string): void {
  process.stderr.write(`anycdn-healthcheck: ${msg}\n`);
}
