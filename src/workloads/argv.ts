// A container's command line as the kubelet and the process will see it: `$(VAR)` references expanded
// the way the kubelet expands them, launchers (env, tini, dumb-init, ...) looked through, and shells and
// inline interpreter code recognised as what they are — programs modelgate cannot read.

/** How one `$(VAR)` reference resolved. */
export type EnvValue =
  /** a literal value modelgate knows */
  | { kind: 'literal'; value: string }
  /** set, but from somewhere modelgate does not read at admission (ConfigMap, Secret, envFrom, ...) */
  | { kind: 'unknown'; from: string };

export interface Expansion {
  value: string;
  /** Names of variables whose values are not known at admission (the result is then not the real value). */
  unknown: string[];
}

/**
 * Expands `$(VAR)` as the kubelet does: a defined variable is replaced, an undefined one is left as written,
 * and `$$` is an escaped `$` (so `$$(VAR)` is the literal text `$(VAR)`). Linear in the input.
 */
export function expandVariables(text: string, lookup: (name: string) => EnvValue | undefined): Expansion {
  if (!text.includes('$')) return { value: text, unknown: [] };
  let out = '';
  const unknown: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = text.indexOf(')', i + 2);
      const name = close < 0 ? '' : text.slice(i + 2, close);
      if (close > 0 && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
        const v = lookup(name);
        if (v === undefined) out += text.slice(i, close + 1);
        else if (v.kind === 'literal') out += v.value;
        else {
          out += text.slice(i, close + 1);
          unknown.push(name);
        }
        i = close;
        continue;
      }
    }
    out += ch;
  }
  return { value: out, unknown };
}

/** Programs that run their arguments as another program; modelgate reads through them. */
const LAUNCHERS = new Set([
  'env',
  'tini',
  'tini-static',
  'dumb-init',
  'nice',
  'nohup',
  'exec',
  'stdbuf',
  'setsid',
]);

/** Shells: their script argument is a program modelgate cannot read. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'fish', 'busybox']);

/** Python launchers. */
const PYTHON = /^(python|python3|python3\.\d+|pypy3?)$/;

export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

export type ProgramView =
  /** `program args...`, after launchers and `python -m module` were read through */
  | { kind: 'program'; program: string; module?: string; args: string[]; offset: number }
  /** a shell script or inline code: what runs is text modelgate cannot read */
  | { kind: 'script'; interpreter: string; script: string }
  /** no command at all: the image's entrypoint runs with `args` */
  | { kind: 'entrypoint'; args: string[] };

/**
 * What a container runs. `command` empty means the image's ENTRYPOINT runs with `args`. Launchers are
 * stripped (`env A=b prog`, `tini -- prog`); `python -m mod` and `python script.py` name what runs.
 */
export function programOf(command: string[], args: string[], depth = 0): ProgramView {
  if (command.length === 0) return { kind: 'entrypoint', args };
  const argv = [...command, ...args];
  let i = 0;
  for (;;) {
    const prog = argv[i];
    if (prog === undefined) return { kind: 'entrypoint', args: [] };
    const base = basename(prog);
    if (LAUNCHERS.has(base)) {
      i++;
      // env: skip VAR=value assignments and its options; tini/dumb-init: options, then "--"
      while (i < argv.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i]!) || argv[i]!.startsWith('-'))) {
        const a = argv[i]!;
        i++;
        if (a === '--') break;
        if (base === 'env' && (a === '-u' || a === '--unset' || a === '-C' || a === '--chdir')) i++;
      }
      continue;
    }
    if (SHELLS.has(base)) {
      // `sh -c 'script'` (any option cluster containing c): a script of one simple command is read as
      // that command; any other script (or `sh script.sh`) is a program modelgate cannot read.
      const rest = argv.slice(i + 1);
      if (base === 'busybox' && rest[0] !== undefined && SHELLS.has(rest[0]) && rest[0] !== 'busybox') {
        i++;
        continue;
      }
      const c = rest.findIndex((a) => /^-[a-z]*c[a-z]*$/i.test(a));
      const script = c >= 0 ? (rest[c + 1] ?? '') : rest.join(' ');
      const words = c >= 0 && c === rest.length - 2 ? simpleShellWords(script) : undefined;
      if (words && depth < 4) return programOf(words, [], depth + 1);
      return { kind: 'script', interpreter: base, script };
    }
    if (PYTHON.test(base)) {
      let j = i + 1;
      while (j < argv.length && /^-[BbdEhIiOqsSuVvWxX]+$/.test(argv[j]!)) j++;
      const a = argv[j];
      if (a === '-c') return { kind: 'script', interpreter: base, script: argv[j + 1] ?? '' };
      if (a === '-m')
        return {
          kind: 'program',
          program: base,
          module: argv[j + 1] ?? '',
          args: argv.slice(j + 2),
          offset: j + 2,
        };
      if (a === undefined || a === '-')
        return { kind: 'script', interpreter: base, script: '(standard input)' };
      return { kind: 'program', program: basename(a), args: argv.slice(j + 1), offset: j + 1 };
    }
    return { kind: 'program', program: base, args: argv.slice(i + 1), offset: i + 1 };
  }
}

/** Characters that make a shell line more than one simple command with literal words. */
const SHELL_SPECIAL = new Set([...'$`\\;&|<>(){}*?[]~!#\n\r']);

/**
 * Splits a shell script into words when it is one simple command of literal words (quotes allowed, no
 * variables, globs, redirections, pipes or lists): `exec vllm serve "org/model" --port 8000`. Anything
 * else returns undefined — what runs is then not knowable without running a shell.
 */
export function simpleShellWords(script: string): string[] | undefined {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) return undefined;
      cur += script.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      const end = script.indexOf('"', i + 1);
      if (end < 0) return undefined;
      const inner = script.slice(i + 1, end);
      if (/[$`\\]/.test(inner)) return undefined;
      cur += inner;
      inWord = true;
      i = end;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (SHELL_SPECIAL.has(c)) return undefined;
    else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  if (words[0] === 'exec') words.shift();
  // VAR=value prefixes change the environment of the command: not read here.
  if (words.length === 0 || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) return undefined;
  return words;
}
