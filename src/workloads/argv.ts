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
  // The next ")" at or after a position, found once and reused until passed: linear however many "$(".
  let close = -2;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$' || i + 1 >= text.length) {
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
      if (close !== -1 && close < i + 2) close = text.indexOf(')', i + 2);
      if (close < 0) {
        // An incomplete reference stays as written.
        out += '$(';
        i++;
        continue;
      }
      // As the kubelet reads it: the name is everything up to the first ")".
      const name = text.slice(i + 2, close);
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
    out += ch;
  }
  return { value: out, unknown };
}

/**
 * Launchers that run their arguments as another program, with the options each takes a value for:
 * modelgate reads through them. An option it does not know makes the command line unreadable.
 */
const LAUNCHERS: Record<string, { valued: Set<string>; flags: RegExp }> = {
  env: {
    valued: new Set(['-u', '--unset', '-C', '--chdir', '-S', '--split-string']),
    flags: /^-(i|0|-ignore-environment|-null)$/,
  },
  tini: { valued: new Set(['-e', '-p']), flags: /^-[svwlgW]+$/ },
  'tini-static': { valued: new Set(['-e', '-p']), flags: /^-[svwlgW]+$/ },
  'dumb-init': { valued: new Set(['-r', '--rewrite']), flags: /^-(c|v|-single-child|-verbose)$/ },
  nice: { valued: new Set(['-n', '--adjustment']), flags: /^-\d+$/ },
  nohup: { valued: new Set(), flags: /^$/ },
  stdbuf: { valued: new Set(['-i', '-o', '-e']), flags: /^-[ioe].+$/ },
  setsid: { valued: new Set(), flags: /^-[cfw]+$/ },
  timeout: {
    valued: new Set(['-k', '--kill-after', '-s', '--signal']),
    flags: /^-(v|-preserve-status|-foreground|-verbose)$/,
  },
  taskset: { valued: new Set(), flags: /^-[acp]+$/ },
  numactl: {
    valued: new Set(['-N', '-m', '-C', '-p', '-i', '-P', '-w']),
    flags: /^--[a-z-]+(=.+)?$|^-[lash]$/,
  },
  chrt: { valued: new Set(), flags: /^-[a-z]+$/ },
  ionice: { valued: new Set(['-c', '-n', '-p', '-P', '-u']), flags: /^-t$/ },
};
/** Launchers whose first positional operand is not the program (timeout DURATION, taskset MASK, ...). */
const LEADING_OPERANDS: Record<string, number> = { timeout: 1, taskset: 1, chrt: 1 };

/** Shells: their script argument is a program modelgate cannot read. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'fish', 'busybox']);
/** Shell options that change nothing modelgate reads (errexit, nounset, xtrace, verbose, noglob, noclobber). */
const SAFE_SHELL_OPTION = /^[-+][euxvfCc]+$/;
const SAFE_SET_O = new Set(['errexit', 'nounset', 'xtrace', 'verbose', 'pipefail', 'noglob', 'noclobber']);

/** Python launchers. */
const PYTHON = /^(python|python3|python3\.\d+|pypy3?)$/;
/** Python options without a value (python --help-all), and those that take one. */
const PYTHON_FLAGS = /^-[bBdEhiIOPqsSuvVx?]+$/;
const PYTHON_VALUED = new Set(['-W', '-X', '--check-hash-based-pycs']);

export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

export interface ProgramFacts {
  /** The program (or script) path as written: a bare name is looked up in PATH. */
  path: string;
  /** Environment assignments launchers add (`env A=b prog`): the program sees them. */
  env: [string, string][];
  /** A working directory a launcher changes to (`env -C dir`). */
  chdir?: string;
}

export type ProgramView =
  /** `program args...`, after launchers and `python -m module` were read through */
  | ({ kind: 'program'; program: string; module?: string; args: string[]; offset: number } & ProgramFacts)
  /** a shell script or inline code, or a command line modelgate cannot read */
  | { kind: 'script'; interpreter: string; script: string }
  /** no command at all: the image's entrypoint runs with `args` */
  | { kind: 'entrypoint'; args: string[] };

const unreadable = (interpreter: string, script: string): ProgramView => ({
  kind: 'script',
  interpreter,
  script,
});

/**
 * What a container runs. `command` empty means the image's ENTRYPOINT runs with `args`. Launchers are read
 * through with their exact options (`env A=b prog`, `nice -n 10 prog`, `tini -- prog`); a shell runs one
 * simple command only in `-c` mode with safe options; `python -m mod` and `python script.py` name what
 * runs. Anything else — an option modelgate does not know, a script file, rc files — is unreadable.
 */
export function programOf(command: string[], args: string[], depth = 0): ProgramView {
  if (command.length === 0) return { kind: 'entrypoint', args };
  const argv = [...command, ...args];
  const env: [string, string][] = [];
  let chdir: string | undefined;
  let i = 0;
  for (;;) {
    const prog = argv[i];
    if (prog === undefined) return { kind: 'entrypoint', args: [] };
    const base = basename(prog);
    const launcher = Object.hasOwn(LAUNCHERS, base) ? LAUNCHERS[base]! : undefined;
    if (launcher || base === 'exec') {
      i++;
      let operands = LEADING_OPERANDS[base] ?? 0;
      while (i < argv.length) {
        const a = argv[i]!;
        if (a === '--') {
          i++;
          break;
        }
        if (base === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
          env.push([a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]);
          i++;
          continue;
        }
        if (a.startsWith('-') && a.length > 1) {
          if (launcher?.valued.has(a)) {
            if (base === 'env' && (a === '-S' || a === '--split-string'))
              return unreadable(base, argv.slice(i).join(' '));
            if (base === 'env' && (a === '-C' || a === '--chdir')) chdir = argv[i + 1];
            i += 2;
            continue;
          }
          const eq = a.indexOf('=');
          if (eq > 0 && launcher?.valued.has(a.slice(0, eq))) {
            if (base === 'env' && a.startsWith('--chdir=')) chdir = a.slice(eq + 1);
            if (base === 'env' && a.startsWith('--split-string='))
              return unreadable(base, argv.slice(i).join(' '));
            i++;
            continue;
          }
          if (launcher?.flags.test(a)) {
            i++;
            continue;
          }
          return unreadable(base, `${base} option ${a}`);
        }
        if (operands > 0) {
          operands--;
          i++;
          continue;
        }
        break;
      }
      continue;
    }
    if (SHELLS.has(base)) {
      const rest = argv.slice(i + 1);
      if (base === 'busybox' && rest[0] !== undefined && SHELLS.has(rest[0]) && rest[0] !== 'busybox') {
        i++;
        continue;
      }
      // Options come first; `-c` (lowercase) makes the first operand the command string. Any other option
      // (rc files, login or interactive shells) or a script file operand is a program modelgate cannot read.
      let j = 0;
      let commandMode = false;
      while (j < rest.length && /^[-+]/.test(rest[j]!) && rest[j] !== '-' && rest[j] !== '--') {
        const o = rest[j]!;
        if ((o === '-o' || o === '+o') && SAFE_SET_O.has(rest[j + 1] ?? '')) {
          j += 2;
          continue;
        }
        if (!SAFE_SHELL_OPTION.test(o)) return unreadable(base, rest.join(' '));
        if (o.startsWith('-') && o.includes('c')) commandMode = true;
        j++;
      }
      if (rest[j] === '--') j++;
      if (!commandMode) return unreadable(base, rest.join(' '));
      const script = rest[j] ?? '';
      const words = simpleShellWords(script);
      if (words && depth < 4) {
        const inner = programOf(words, [], depth + 1);
        if (inner.kind === 'program')
          return { ...inner, env: [...env, ...inner.env], ...(chdir ? { chdir } : {}) };
        return inner;
      }
      return unreadable(base, script);
    }
    if (PYTHON.test(base)) {
      let j = i + 1;
      for (;;) {
        const o = argv[j];
        if (o === undefined) break;
        if (PYTHON_VALUED.has(o)) {
          j += 2;
          continue;
        }
        if (/^-[WX]./.test(o) || PYTHON_FLAGS.test(o)) {
          j++;
          continue;
        }
        break;
      }
      const a = argv[j];
      if (a === '-c') return unreadable(base, argv[j + 1] ?? '');
      if (a === '-m')
        return {
          kind: 'program',
          program: base,
          module: argv[j + 1] ?? '',
          args: argv.slice(j + 2),
          offset: j + 2,
          path: prog,
          env,
          ...(chdir ? { chdir } : {}),
        };
      if (a === undefined || a === '-' || a.startsWith('-'))
        return unreadable(base, argv.slice(j).join(' ') || '(standard input)');
      // `python script`: the script is the program (a file the path names).
      return {
        kind: 'program',
        program: basename(a),
        args: argv.slice(j + 1),
        offset: j + 1,
        path: a,
        env,
        ...(chdir ? { chdir } : {}),
      };
    }
    return {
      kind: 'program',
      program: base,
      args: argv.slice(i + 1),
      offset: i + 1,
      path: prog,
      env,
      ...(chdir ? { chdir } : {}),
    };
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
