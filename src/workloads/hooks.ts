// Lifecycle hooks and probes run inside the container: an exec hook that runs a script, or a request to a
// model server's load API, can load a model at run time where no admission check sees it.
import { arr, isObj, obj, str, type JsonObject } from '../json/shape.ts';
import { basename, programOf } from './argv.ts';
import type { ContainerView } from './container.ts';

/** A probe or hook calling a model server's load API. */
const LOAD_API = /load|adapter|pull|register|\/repository\/|unload|create/i;

/** Programs that exec probes and hooks commonly run and that cannot load a model. */
const BENIGN_PROBE_PROGRAMS = new Set([
  'cat',
  'test',
  '[',
  'ls',
  'true',
  'stat',
  'pgrep',
  'grpc_health_probe',
  'healthcheck',
  'nvidia-smi',
  'sleep',
]);

/** Exec and HTTP lifecycle hooks and probes run in the container: one that calls a load API loads a model. */
export function readHooksAndProbes(view: ContainerView, raw: JsonObject): void {
  const handlers: [string, unknown][] = [
    ['lifecycle.postStart', obj(raw.lifecycle).postStart],
    ['lifecycle.preStop', obj(raw.lifecycle).preStop],
    ['livenessProbe', raw.livenessProbe],
    ['readinessProbe', raw.readinessProbe],
    ['startupProbe', raw.startupProbe],
  ];
  for (const [where, h] of handlers) {
    if (!isObj(h)) continue;
    if (isObj(h.exec)) {
      const cmd = arr(h.exec.command).filter((a): a is string => typeof a === 'string');
      const p = programOf(cmd, []);
      const prog = p.kind === 'program' ? p.program : undefined;
      const callsLoadApi =
        p.kind === 'program' &&
        (prog === 'curl' || prog === 'wget') &&
        p.args.some(
          (a) =>
            LOAD_API.test(a) ||
            /^(-X|--request|-d|--data.*|--post-data|--post-file|-F|--form|-T|--upload-file)$/.test(a),
        );
      const benign =
        p.kind === 'program' &&
        p.module === undefined &&
        (BENIGN_PROBE_PROGRAMS.has(prog ?? '') || ((prog === 'curl' || prog === 'wget') && !callsLoadApi));
      if (!benign)
        view.unreadable.push({
          where: `${where}.exec`,
          value: cmd.join(' ').slice(0, 200),
          reason:
            p.kind === 'script'
              ? `the ${where} hook runs a ${p.interpreter} script inside the container, which modelgate cannot read (it could load a model through the server's API)`
              : callsLoadApi
                ? `the ${where} hook sends a request that can make the server load a model at run time`
                : `the ${where} hook runs ${basename(cmd[0] ?? '?')} inside the container, which modelgate cannot read (it could load a model through the server's API)`,
          remediation: `use an httpGet probe on the health endpoint, or a probe command such as cat or grpc_health_probe`,
          relevance: 'always',
        });
    } else if (isObj(h.httpGet)) {
      const path = str(h.httpGet.path) ?? '/';
      if (LOAD_API.test(path))
        view.unreadable.push({
          where: `${where}.httpGet`,
          value: path,
          reason: `the ${where} hook calls ${path}, which can make the server load a model at run time`,
          remediation: 'point the hook at the server health endpoint',
          relevance: 'always',
        });
    }
  }
}
