// Lifecycle hooks and probes run inside the container: an exec hook that runs a script, or a request to a
// model server's load API, can load a model at run time where no admission check sees it.
import { arr, isObj, obj, str, type JsonObject } from '../json/shape.ts';
import { basename, programOf } from './argv.ts';
import type { ContainerView } from './container.ts';

/** A probe or hook calling a model server's load API (matched on the percent-decoded URL). */
const LOAD_API =
  /load|adapter|pull|register|\/repository\/|unload|create|weights|lora|update|rpc|sleep|wake|collective/i;

/** curl and wget options a health check uses (GET only; no body, no method, no upload); values in *_VALUED. */
const CURL_SAFE =
  /^(-[sSfLkvIi]+|--fail|--silent|--show-error|--location|--insecure|--head|--include|--verbose|--fail-with-body)$/;
const CURL_VALUED = new Set([
  '-o',
  '--output',
  '-m',
  '--max-time',
  '--connect-timeout',
  '-w',
  '--write-out',
  '-H',
  '--header',
  '-u',
  '--user',
  '--retry',
  '--cacert',
]);
const WGET_SAFE = /^(-[qS]+|--spider|--quiet|--server-response|--no-check-certificate|--no-verbose|-nv)$/;
const WGET_VALUED = new Set(['-O', '--output-document', '-T', '--timeout', '-t', '--tries', '--header']);

const decoded = (u: string): string => {
  try {
    return decodeURIComponent(u);
  } catch {
    return u;
  }
};

/** True when a curl/wget command is a plain GET to a URL that is not a load API. */
function plainHealthRequest(prog: string, args: string[]): boolean {
  const safe = prog === 'curl' ? CURL_SAFE : WGET_SAFE;
  const valued = prog === 'curl' ? CURL_VALUED : WGET_VALUED;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (valued.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      if (eq > 0 && valued.has(a.slice(0, eq))) continue;
      if (!safe.test(a)) return false;
      continue;
    }
    if (LOAD_API.test(decoded(a))) return false;
  }
  return true;
}

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
        p.kind === 'program' && (prog === 'curl' || prog === 'wget') && !plainHealthRequest(prog, p.args);
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
      if (LOAD_API.test(decoded(path)))
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
