// Which checker validates which kind of rendered file.
import type { CheckKind } from '../render/types.ts';
import { nginxChecker, squidChecker } from './cache.ts';
import { birdChecker, healthcheckChecker, knotChecker, nodeChecker, shellChecker, zoneChecker } from './dns.ts';
import { sysctlChecker, systemdChecker } from './host.ts';
import { haproxyChecker, keepalivedChecker } from './lb.ts';
import { namedCheckzoneChecker, shellcheckChecker } from './independent.ts';
import { mtailChecker, nftChecker, prometheusChecker, prometheusRulesChecker } from './monitoring.ts';
import { pythonChecker, thumbnailerChecker } from './thumbnailer.ts';
import type { Checker } from './types.ts';

export const CHECKERS: Partial<Record<CheckKind, Checker>> = {
  bird: birdChecker,
  knot: knotChecker,
  zone: zoneChecker,
  shell: shellChecker,
  node: nodeChecker,
  healthcheck: healthcheckChecker,
  python: pythonChecker,
  thumbnailer: thumbnailerChecker,
  haproxy: haproxyChecker,
  keepalived: keepalivedChecker,
  nginx: nginxChecker,
  squid: squidChecker,
  systemd: systemdChecker,
  sysctl: sysctlChecker,
  prometheus: prometheusChecker,
  'prometheus-rules': prometheusRulesChecker,
  mtail: mtailChecker,
  nft: nftChecker,
  shellcheck: shellcheckChecker,
  'named-checkzone': namedCheckzoneChecker,
};

/** The independent checkers that check a kind of file besides its own (independent.ts). */
export const INDEPENDENT: Partial<Record<CheckKind, CheckKind[]>> = {
  shell: ['shellcheck'],
  zone: ['named-checkzone'],
};

/** Every checker of `kind`'s files: its own, then the independent ones, as far as `checkers` has them. */
export function checkersOf(kind: CheckKind, checkers: Partial<Record<string, Checker>>): Checker[] {
  return [kind, ...(INDEPENDENT[kind] ?? [])].flatMap((k) => checkers[k] ?? []);
}
