// Reads a recognised server's arguments with its grammar, the way the server's own parser would, and
// conservatively where modelgate cannot be sure: a repeated flag yields every value, an abbreviation
// yields every flag it could stand for, and a token after an unknown flag is both that flag's value and
// (while the model slot is open) the positional model. Every candidate must pass the policy.
import type { FlagSpec, Grammar, JsonOptionSpec } from './servers.ts';

/** A value the server may load as a model. */
export interface Candidate {
  value: string;
  /** Where it was read, e.g. `--model`, `positional argument 1`, `--lora-modules`. */
  where: string;
  kind: 'model' | 'source' | 'destination';
  /** The server's main model (the positional model, --model, MODEL_ID): the one --revision pins. */
  main?: true;
  /** A Hugging Face repository `owner/name[:tag]`, whatever it looks like (llama.cpp -hf). */
  hub?: true;
  /** Named relative to the model store (resolved at the end of the reading when the store is known). */
  storeRelative?: true;
  /** Revisions given with this model in the same JSON option (every one must pin it). */
  revisions?: string[];
}

/** Input that may change what is loaded and that modelgate cannot read at admission. */
export interface Unreadable {
  where: string;
  value: string;
  reason: string;
  remediation: string;
}

export interface CommandLineReading {
  candidates: Candidate[];
  /** Revisions given for the main model (every one must pin). */
  revisions: { value: string; where: string }[];
  unreadable: Unreadable[];
  /** Flags that turn on loading at run time, with the value that does it. */
  runtimeLoading: { where: string; value: string }[];
  /** Cache directories named on the command line. */
  caches: { where: string; value: string }[];
  /** Where a downloader writes (flags such as --local-dir; positional destinations are candidates). */
  destinations: { where: string; value: string }[];
  /** Flags that download from another endpoint. */
  redirects: { where: string; value: string }[];
  /** Flags the grammar does not know (reported so the reading can be explained). */
  unknownFlags: string[];
  /** Values taken by flags whose values are inert (ports, hosts, keys): they name no model or file. */
  inert: Set<string>;
}

/** Above this many arguments modelgate stops reading and refuses (a real server has a few dozen). */
export const MAX_ARGS = 4096;

/** Flag names that suggest a file or model even when the grammar does not know them. */
const MODEL_ISH =
  /model|adapter|lora|path|dir|repo|checkpoint|ckpt|weight|tokenizer|config|file|url|uri|hub|store|load|draft|peft|plugin|cls|class|middleware|processor|module|script|extension|hook|callback|import|entrypoint|handler|code|vector/i;

function lookup(g: Grammar, name: string): { flags: string[]; specs: FlagSpec[] } {
  const norm = (n: string) => (g.underscoresAreDashes && n.startsWith('--') ? n.replace(/_/g, '-') : n);
  const n = norm(name);
  const exact = g.flags.get(n);
  if (exact) return { flags: [n], specs: [exact] };
  if (g.abbreviations && n.startsWith('--') && n.length > 2) {
    // argparse/getopt_long: an unambiguous prefix selects the flag; an ambiguous one is an error at start,
    // but modelgate does not rely on the server refusing it — every flag it could mean counts.
    const hits = [...g.flags.entries()].filter(([f]) => f.startsWith('--') && f.startsWith(n));
    return { flags: hits.map(([f]) => f), specs: hits.map(([, s]) => s) };
  }
  return { flags: [], specs: [] };
}

/** Flags naming a server's main model: the revision flags (--revision, --model-revision) pin these only. */
export const MAIN_MODEL_FLAGS = new Set([
  '--model',
  '--model-id',
  '--model-path',
  '--model-dir',
  '-m',
  '--model_base_path',
]);

const isFlag = (a: string): boolean => a.length > 1 && a.startsWith('-') && !/^-\d/.test(a);

/** The arity to read an abbreviation with: one whose flags disagree may take a value, so the value is read. */
function strongest(specs: FlagSpec[]): { arity: FlagSpec['arity'] } {
  if (specs.some((s) => s.arity === 'many')) return { arity: 'many' };
  return { arity: specs.some((s) => s.arity === 'one') ? 'one' : 'bool' };
}

export function readCommandLine(g: Grammar, args: readonly string[]): CommandLineReading {
  const out: CommandLineReading = {
    candidates: [],
    revisions: [],
    unreadable: [],
    runtimeLoading: [],
    caches: [],
    destinations: [],
    redirects: [],
    unknownFlags: [],
    inert: new Set(),
  };
  if (args.length > MAX_ARGS) {
    out.unreadable.push({
      where: 'arguments',
      value: `${args.length} arguments`,
      reason: `the container has ${args.length} arguments; modelgate reads at most ${MAX_ARGS}`,
      remediation: 'pass fewer arguments',
    });
    return out;
  }
  /** Positional arguments read so far, and whether an ambiguous token kept the model slot open. */
  let positionals = 0;
  let modelSlotSettled = false;
  const positional = (value: string, where: string, definite: boolean) => {
    if (g.positional === 'model') {
      if (!modelSlotSettled) out.candidates.push({ value, where, kind: 'model', main: true });
      if (definite) modelSlotSettled = true;
    } else if (g.positional === 'source-destination') {
      // Downloaders: the last positional is where files go; every other one is a source.
      out.candidates.push({ value, where, kind: 'source' });
    }
    positionals++;
  };

  const take = (spec: FlagSpec, flag: string, value: string, main = false): void => {
    switch (spec.kind) {
      case 'model':
        out.candidates.push({ value, where: flag, kind: 'model', ...(main ? { main: true as const } : {}) });
        break;
      case 'model-list':
        for (const v of value
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean))
          out.candidates.push({
            value: v.includes('=') ? v.slice(v.indexOf('=') + 1) : v,
            where: flag,
            kind: 'model',
          });
        break;
      case 'adapter':
        for (const v of adapterPaths(value, flag, out))
          out.candidates.push({ value: v, where: flag, kind: 'model' });
        break;
      case 'store-model':
        for (const v of adapterPaths(value, flag, out))
          out.candidates.push({ value: v, where: flag, kind: 'model', storeRelative: true });
        break;
      case 'json':
        jsonOption(value, flag, spec.json ?? {}, g.name, out);
        break;
      case 'revision':
        out.revisions.push({ value, where: flag });
        break;
      case 'code':
        out.unreadable.push({
          where: flag,
          value,
          reason: `${g.name} imports or runs code named by ${flag} (${JSON.stringify(value)}), which is not a model modelgate can check and can load one`,
          remediation: `remove ${flag}, or build the plugin into the server image and have the platform team review it`,
        });
        break;
      case 'config':
        out.unreadable.push({
          where: flag,
          value,
          reason: `${g.name} reads options from the file ${JSON.stringify(value)}, which modelgate cannot read at admission, so it cannot tell which model it names`,
          remediation: `pass the options on the command line instead of ${flag}`,
        });
        break;
      case 'runtime-load':
        if (g.runtimeLoadValues?.test(value)) out.runtimeLoading.push({ where: flag, value });
        break;
      case 'cache':
        out.caches.push({ where: flag, value });
        break;
      case 'destination':
        out.destinations.push({ where: flag, value });
        break;
      case 'redirect':
        out.redirects.push({ where: flag, value });
        break;
      case 'hub':
        out.candidates.push({ value, where: flag, kind: 'model', hub: true });
        break;
      case 'docker-model': {
        // llama.cpp: [namespace/]name[:tag], namespace "ai" by default, on Docker Hub.
        const ref = value.includes('/') ? value : `ai/${value}`;
        out.candidates.push({ value: `oci://docker.io/${ref}`, where: flag, kind: 'model' });
        break;
      }
      case 'value':
        out.inert.add(value);
        break;
    }
  };

  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      for (let j = i + 1; j < args.length; j++)
        positional(args[j]!, `positional argument ${positionals + 1}`, true);
      break;
    }
    if (!isFlag(a)) {
      positional(a, `positional argument ${positionals + 1}`, true);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    // vLLM's `--json-option.key.sub value` sets one key of a JSON option: read as {"key": {"sub": value}}.
    const dotted = dottedJsonOption(g, name);
    if (dotted) {
      const raw = inline ?? args[i + 1];
      if (inline === undefined) i++;
      if (raw !== undefined)
        jsonOption(nestValue(dotted.keys, raw), `${dotted.flag} (${name})`, dotted.spec, g.name, out);
      continue;
    }
    const { flags, specs } = lookup(g, name);
    if (specs.length === 0) {
      out.unknownFlags.push(name);
      if (MODEL_ISH.test(name)) {
        out.unreadable.push({
          where: name,
          value: inline ?? args[i + 1] ?? '',
          reason: `${g.name} flag ${name} is not known to modelgate, and its name suggests it names a model or a file`,
          remediation: `remove ${name}, or name the model with a flag modelgate reads (docs/policy.md lists them for ${g.name})`,
        });
        if (inline === undefined && args[i + 1] !== undefined && !isFlag(args[i + 1]!)) i++;
        continue;
      }
      // An unknown flag may or may not take a value: the next token may be its value or the model.
      if (inline === undefined && args[i + 1] !== undefined && !isFlag(args[i + 1]!)) {
        positional(
          args[i + 1]!,
          `${args[i + 1]} (after the unknown flag ${name}, it may be the model)`,
          false,
        );
        positionals--; // not a definite positional
        i++;
      }
      continue;
    }
    // An abbreviation that could stand for several flags counts as each of them (every meaning applies).
    const arity = specs.length === 1 ? specs[0]!.arity : strongest(specs).arity;
    const kindsFor = (v: string) => [
      ...new Map(
        specs
          .filter((_, k) => !g.keywords?.get(flags[k]!)?.test(v))
          .map((x) => [x.json ?? x.kind, x] as const),
      ).values(),
    ];
    const shown = flags.length === 1 && flags[0] === name ? name : `${name} (read as ${flags.join(' or ')})`;
    // The main model only when every flag the name could stand for names it (--model, --model-id, ...).
    const main = flags.every((f) => MAIN_MODEL_FLAGS.has(f));
    const takeAll = (v: string) => {
      for (const f of flags)
        if (g.choices?.get(f)?.test(v) === false)
          out.unreadable.push({
            where: shown,
            value: v,
            reason: `${JSON.stringify(v)} is not one of ${g.name}'s own values for ${f}: it names a loader or class a plugin supplies, which may load weights from elsewhere`,
            remediation: `use one of ${g.name}'s built-in values for ${f} (docs/policy.md#model-servers)`,
          });
      for (const k of kindsFor(v)) take(k, shown, v, main);
    };
    if (arity === 'bool') {
      if (inline !== undefined)
        for (const k of kindsFor(inline)) if (k.kind !== 'value') take(k, shown, inline);
      continue;
    }
    if (inline !== undefined) {
      takeAll(inline);
      continue;
    }
    if (arity === 'one') {
      const v = args[i + 1];
      if (v === undefined) continue;
      takeAll(v);
      i++;
      continue;
    }
    // nargs='+': values until the next flag.
    while (args[i + 1] !== undefined && !isFlag(args[i + 1]!)) takeAll(args[++i]!);
  }
  if (g.modelStore) {
    // Relative names resolve in the model store the command line names (the last one given wins).
    const store = out.candidates.filter((c) => c.where === g.modelStore).pop()?.value;
    for (const c of out.candidates)
      if (
        c.storeRelative &&
        store?.startsWith('/') &&
        !c.value.startsWith('/') &&
        !/^[a-z][a-z0-9+.-]*:/i.test(c.value)
      )
        c.value = `${store.replace(/\/+$/, '')}/${c.value}`;
  }
  if (g.positional === 'source-destination') {
    // The last positional is the destination, not a source.
    const sources = out.candidates.filter((c) => c.kind === 'source');
    const last = sources[sources.length - 1];
    if (last && sources.length >= 2) last.kind = 'destination';
  }
  return out;
}

/** Keys of an adapter's JSON that name where it is loaded from. */
const ADAPTER_PATH_KEYS = ['path', 'lora_path', 'local_path'];
/** Keys of an adapter's JSON that load nothing (labels shown in /v1/models, flags). */
const ADAPTER_LABEL_KEYS = new Set(['name', 'lora_name', 'base_model_name', 'pinned']);

/** vLLM/SGLang adapters: `name=path`, or JSON `{"name": ..., "path": ...}`; a key modelgate does not know is unreadable. */
function adapterPaths(value: string, flag: string, out: CommandLineReading): string[] {
  const t = value.trim();
  if (t.startsWith('{')) {
    const paths = jsonModels(t, flag, out, ADAPTER_PATH_KEYS);
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      return paths; // reported by jsonModels
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      for (const k of Object.keys(parsed))
        if (!ADAPTER_PATH_KEYS.includes(k) && !ADAPTER_LABEL_KEYS.has(k))
          out.unreadable.push({
            where: `${flag} ${k}`,
            value: t,
            reason: `modelgate does not know what the key ${JSON.stringify(k)} of ${flag} loads`,
            remediation: `give the adapter as {"name": ..., "path": ...}`,
          });
    return paths;
  }
  const eq = t.indexOf('=');
  return [eq >= 0 ? t.slice(eq + 1) : t];
}

/** Models named inside a JSON option (speculative decoding, adapters). Unparsable JSON is unreadable. */
function jsonModels(value: string, flag: string, out: CommandLineReading, keys: string[]): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    out.unreadable.push({
      where: flag,
      value,
      reason: `the value of ${flag} is not JSON modelgate can read`,
      remediation: `write ${flag} as a JSON object, e.g. {"model": "<model>"}`,
    });
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    out.unreadable.push({
      where: flag,
      value,
      reason: `the value of ${flag} is not a JSON object`,
      remediation: `write ${flag} as a JSON object`,
    });
    return [];
  }
  const found: string[] = [];
  for (const [k, v] of Object.entries(parsed))
    if (keys.includes(k)) {
      if (typeof v === 'string') found.push(v);
      else if (v !== null)
        out.unreadable.push({
          where: `${flag} ${k}`,
          value: JSON.stringify(v),
          reason: `${flag} ${k} is not a string`,
          remediation: `give ${k} as a string`,
        });
    }
  return found;
}

/** A `--flag.key.sub` spelling of one of the grammar's JSON options (vLLM), or undefined. */
function dottedJsonOption(
  g: Grammar,
  name: string,
): { flag: string; keys: string[]; spec: JsonOptionSpec } | undefined {
  if (!name.startsWith('-')) return undefined;
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  const { flags, specs } = lookup(g, name.slice(0, dot));
  if (flags.length !== 1 || specs[0]!.kind !== 'json') return undefined;
  // vLLM appends to a list with a trailing "+" (`--compilation-config.custom_ops+ x`).
  const keys = name
    .slice(dot + 1)
    .split('.')
    .map((k) => k.replace(/\+$/, ''));
  return { flag: flags[0]!, keys, spec: specs[0]!.json ?? {} };
}

/** `{"a": {"b": value}}` as JSON text, the value parsed as JSON when it is JSON (vLLM does the same). */
function nestValue(keys: readonly string[], raw: string): string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  for (let k = keys.length - 1; k >= 0; k--) value = { [keys[k]!]: value };
  return JSON.stringify(value);
}

/** A string that may name a file, a URI, a repository (`org/name`, `org/repo--module.Class`) or a home path. */
const LOCATION_LIKE = /[/\\]|--|^[.~]|^[a-z][a-z0-9+.-]*:\/\//i;
/** A registered name (a connector, a compile backend) rather than a Python path the server imports. */
const PLAIN_NAME = /^[A-Za-z0-9_-]*$/;
/** Findings reported per JSON option (the first ones; one is enough to refuse). */
const MAX_JSON_FINDINGS = 8;
/** JSON deeper than this is not a server option: unreadable rather than walked. */
const MAX_JSON_DEPTH = 32;

/**
 * Reads a JSON option by key (docs/policy.md, "JSON option values are read by key"): models and their
 * revisions at the keys the spec names; code at code keys, and dotted Python names at name keys, are
 * unreadable; any other string that looks like a location is unreadable, because modelgate does not know
 * what the server loads from it. Numbers, booleans and plain words are settings.
 */
function jsonOption(
  value: string,
  flag: string,
  spec: JsonOptionSpec,
  server: string,
  out: CommandLineReading,
): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Options whose keys name models must be JSON modelgate reads; the others also take their older
    // `key=value,...` spelling (vLLM --limit-mm-per-prompt image=2), a setting unless it looks like a location.
    if (spec.models || spec.valuesAreModels || LOCATION_LIKE.test(value))
      out.unreadable.push({
        where: flag,
        value,
        reason: `the value of ${flag} is not JSON modelgate can read`,
        remediation: `write ${flag} as a JSON object`,
      });
    return;
  }
  // A few findings say what to fix; a hostile option with thousands of strings is not listed whole.
  let found = 0;
  const unreadable = (path: string, v: string, reason: string, remediation: string) => {
    if (++found <= MAX_JSON_FINDINGS)
      out.unreadable.push({ where: `${flag} ${path}`, value: v, reason, remediation });
  };
  const top = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  const models: string[] = [];
  const revisions: string[] = [];
  // Iterative walk (no recursion on hostile nesting): [value, key path, key].
  const stack: [unknown, string, string | undefined, number][] = [[parsed, '', undefined, 0]];
  while (stack.length > 0) {
    const [v, path, key, depth] = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) {
      unreadable(path, '(nested)', `${flag} nests deeper than ${MAX_JSON_DEPTH} levels`, `flatten ${flag}`);
      return;
    }
    const atTop = depth === 1 && top !== undefined;
    if (key !== undefined && spec.code?.includes(key)) {
      unreadable(
        path,
        JSON.stringify(v),
        `${server} imports code named by ${flag} ${key}, which is not a model modelgate can check and can load one`,
        `remove ${key} from ${flag}, or build the code into the server image and have the platform team review it`,
      );
      continue;
    }
    if (typeof v === 'string') {
      if (atTop && key !== undefined && spec.models?.includes(key)) models.push(v);
      else if (atTop && key !== undefined && spec.revisions?.includes(key)) revisions.push(v);
      else if (spec.valuesAreModels) models.push(v);
      else if (key !== undefined && spec.names?.includes(key)) {
        if (!PLAIN_NAME.test(v))
          unreadable(
            path,
            v,
            `${flag} ${key} ${JSON.stringify(v)} is not a registered name, so ${server} imports it as code`,
            `use one of ${server}'s built-in names for ${key}`,
          );
      } else if (LOCATION_LIKE.test(v))
        unreadable(
          path,
          v,
          `${flag} ${path} ${JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}…` : v)} looks like a file, URI, repository or module, and modelgate does not know what ${server} loads from it`,
          `remove it from ${flag}, or name models with the flags modelgate reads (docs/policy.md#model-servers)`,
        );
      continue;
    }
    // Pushed last to first, so values are read in the order written.
    if (Array.isArray(v)) {
      for (let n = v.length - 1; n >= 0; n--) stack.push([v[n], `${path}[${n}]`, key, depth + 1]);
      continue;
    }
    if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      for (let n = entries.length - 1; n >= 0; n--) {
        const [k, x] = entries[n]!;
        stack.push([x, path ? `${path}.${k}` : k, k, depth + 1]);
      }
    }
  }
  for (const m of models)
    out.candidates.push({
      value: m,
      where: flag,
      kind: 'model',
      ...(revisions.length > 0 ? { revisions } : {}),
    });
}
