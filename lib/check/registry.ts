// Which checker validates which kind of rendered file.
import type { CheckKind } from '../render/types.ts';
import { nginxChecker, squidChecker } from './cache.ts';
import { birdChecker, healthcheckChecker, knotChecker, nodeChecker, shellChecker, zoneChecker } from './dns.ts';
import { sysctlChecker, systemdChecker } from './host.ts';
import { haproxyChecker, keepalivedChecker } from './lb.ts';
import { prometheusChecker, prometheusRulesChecker } from './monitoring.ts';
import type { Checker } from './types.ts';

export const CHECKERS: Partial<Record<CheckKind, Checker>> = {
  bird: birdChecker,
  knot: knotChecker,
  zone: zoneChecker,
  shell: shellChecker,
  node: nodeChecker,
  healthcheck: healthcheckChecker,
  haproxy: haproxyChecker,
  keepalived: keepalivedChecker,
  nginx: nginxChecker,
  squid: squidChecker,
  systemd: systemdChecker,
  sysctl: sysctlChecker,
  prometheus: prometheusChecker,
  'prometheus-rules': prometheusRulesChecker,
};
