// Reads what the Dockerfile's final stage says about the image: the release recipe is the one source of
// the image's metadata (labels, user, entrypoint, command, working directory, environment) and of where
// each part goes. modelgate-image.ts builds the local image from this; its test checks that the built
// image says and holds the same.

export interface CopyInstruction {
  /** Stage the files come from ("build", "prod-deps"); undefined: the build context or a heredoc. */
  from?: string;
  chown?: string;
  chmod?: string;
  sources: string[];
  destination: string;
  /** The body of a heredoc source (`COPY <<'EOF' /path`). */
  heredoc?: string;
}

export interface RuntimeStage {
  /** The base image of the final stage, with ARG defaults substituted. */
  base: string;
  labels: Record<string, string>;
  env: [string, string][];
  workdir?: string;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  copies: CopyInstruction[];
}

interface Instruction {
  keyword: string;
  args: string;
  heredoc?: string;
}

/** Instructions with line continuations joined and heredoc bodies attached; comments dropped. */
export function instructions(dockerfile: string): Instruction[] {
  const lines = dockerfile.split('\n');
  const out: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length)
      line = `${line.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile line ${i + 1} is not an instruction: ${line}`);
    const instruction: Instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim() };
    const heredoc = /<<-?'?"?([A-Za-z_][A-Za-z0-9_]*)'?"?/.exec(instruction.args);
    if (heredoc) {
      const body: string[] = [];
      while (i + 1 < lines.length && lines[i + 1] !== heredoc[1]) body.push(lines[++i] ?? '');
      if (i + 1 >= lines.length)
        throw new Error(`Dockerfile heredoc <<${heredoc[1]} has no closing ${heredoc[1]} line`);
      i++;
      instruction.heredoc = `${body.join('\n')}\n`;
    }
    out.push(instruction);
  }
  return out;
}

/** KEY=value pairs, values optionally double-quoted (LABEL, ENV, ARG). */
function pairs(args: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([A-Za-z0-9_.-]+)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  for (let m = re.exec(args); m; m = re.exec(args))
    out.push([m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!]);
  return out;
}

function substitute(value: string, args: Map<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, a?: string, b?: string) => {
      const name = (a ?? b)!;
      const v = args.get(name);
      if (v === undefined) throw new Error(`Dockerfile uses \${${name}} without a default`);
      return v;
    },
  );
}

function execForm(args: string, what: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string'))
    throw new Error(`Dockerfile ${what} is not in exec form (a JSON list of strings): ${args}`);
  return parsed as string[];
}

/** The final stage of the Dockerfile, with ARG defaults (global and in-stage) substituted. */
export function runtimeStage(dockerfile: string): RuntimeStage {
  const all = instructions(dockerfile);
  const globalArgs = new Map<string, string>();
  let i = 0;
  for (; i < all.length && all[i]!.keyword !== 'FROM'; i++)
    if (all[i]!.keyword === 'ARG') for (const [k, v] of pairs(all[i]!.args)) globalArgs.set(k, v);
  const lastFrom = all.map((x) => x.keyword).lastIndexOf('FROM');
  if (lastFrom === -1) throw new Error('Dockerfile has no FROM');
  const args = new Map(globalArgs);
  const stage: RuntimeStage = {
    base: substitute(all[lastFrom]!.args.split(/\s+/)[0]!, globalArgs),
    labels: {},
    env: [],
    copies: [],
  };
  for (const ins of all.slice(lastFrom + 1)) {
    const value = (s: string): string => substitute(s, args);
    switch (ins.keyword) {
      case 'ARG':
        for (const [k, v] of pairs(ins.args)) args.set(k, v);
        break;
      case 'LABEL':
        for (const [k, v] of pairs(ins.args)) stage.labels[k] = value(v);
        break;
      case 'ENV':
        for (const [k, v] of pairs(ins.args)) {
          stage.env = stage.env.filter(([name]) => name !== k);
          stage.env.push([k, value(v)]);
        }
        break;
      case 'WORKDIR':
        stage.workdir = value(ins.args);
        break;
      case 'USER':
        stage.user = value(ins.args);
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(ins.args, 'ENTRYPOINT');
        break;
      case 'CMD':
        stage.cmd = execForm(ins.args, 'CMD');
        break;
      case 'COPY': {
        const words = ins.args.split(/\s+/);
        const flags = new Map<string, string>();
        while (words[0]?.startsWith('--')) {
          const [k, v = ''] = words.shift()!.slice(2).split('=');
          flags.set(k!, v);
        }
        const destination = value(words.pop() ?? '');
        const copy: CopyInstruction = { sources: words.filter((w) => !w.startsWith('<<')), destination };
        if (flags.has('from')) copy.from = flags.get('from')!;
        if (flags.has('chown')) copy.chown = flags.get('chown')!;
        if (flags.has('chmod')) copy.chmod = flags.get('chmod')!;
        if (ins.heredoc !== undefined) copy.heredoc = ins.heredoc;
        stage.copies.push(copy);
        break;
      }
      default:
        throw new Error(
          `the final stage of the Dockerfile uses ${ins.keyword}, which the local image build (scripts/image/modelgate-image.ts) does not reproduce; teach it, or keep that instruction in an earlier stage`,
        );
    }
  }
  return stage;
}

/** A COPY destination relative to the working directory, made absolute as Docker does. */
export function absoluteDestination(destination: string, workdir = '/'): string {
  if (destination.startsWith('/')) return destination;
  const joined = `${workdir.replace(/\/$/, '')}/${destination.replace(/^\.\//, '')}`;
  return joined.replace(/\/$/, '') || '/';
}
