// The SOA serial of a rendered zone: derived from the content and the previous state, never from
// the clock. With no previous state it is the model's dns.soa.serial. Against a previous zone file
// (its serial and sha256): the same content keeps that serial; any other content takes the next
// one (RFC 1982 arithmetic, wrapping to 0), or the model's serial when the operator has raised it
// past that. So rendering twice gives the same bytes, and every content change the hosts see raises
// the serial. render reads the previous serials from out/.anycdn/manifest.json; plan from its baseline.
import { createHash } from 'node:crypto';
import type { ZoneBaseline } from './types.ts';

const MOD = 2 ** 32;

/** RFC 1982: is `a` greater than `b` in 32-bit serial arithmetic. */
export function serialGreater(a: number, b: number): boolean {
  const d = (a - b + MOD) % MOD;
  return d !== 0 && d < 2 ** 31;
}

/**
 * `text(serial)` is the zone file with that serial. Pure: the same model and baseline give the same
 * serial every time.
 */
export function zoneSerial(text: (serial: number) => string, modelSerial: number, baseline: ZoneBaseline | undefined): number {
  if (!baseline) return modelSerial;
  // The operator's own bump, compared as plain numbers: in serial arithmetic half of all values
  // are "greater", so the default 1 would otherwise overtake a baseline past 2^31.
  if (modelSerial > baseline.serial && serialGreater(modelSerial, baseline.serial)) return modelSerial;
  const same = createHash('sha256').update(text(baseline.serial)).digest('hex') === baseline.sha256;
  return same ? baseline.serial : (baseline.serial + 1) % MOD;
}
