// modelgate: one binary, one entry point. Each verb lives in its own module and is loaded on demand,
// so `modelgate scan` never pays for the webhook's dependencies.
import { readFileSync } from 'node:fs';
import { UsageError } from './args.ts';

interface Verb {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

const verbs: Record<string, Verb> = {
  check: { summary: 'test policies against manifests offline', load: () => import('./check.ts') },
  sign: { summary: 'sign a model (OpenSSF model-signing bundle)', load: () => import('./sign.ts') },
  verify: { summary: 'verify a model against its signature bundle', load: () => import('./verify.ts') },
  scan: { summary: 'scan model files for embedded code', load: () => import('./scan.ts') },
  webhook: { summary: 'serve the admission webhook', load: () => import('./webhook.ts') },
  controller: {
    summary: 'run the policy, audit and certificate controller',
    load: () => import('./controller.ts'),
  },
};

function usage(): string {
  const lines = Object.entries(verbs).map(([name, v]) => `  ${name.padEnd(11)} ${v.summary}`);
  return [
    'usage: modelgate <command> [flags]',
    '',
    'commands:',
    ...lines,
    '',
    'Run `modelgate <command> --help` for its flags.',
  ].join('\n');
}

/** The version in package.json (two levels up from src/cli or dist/cli, in a checkout and in the image). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`modelgate ${version()}\n`);
    return 0;
  }
  const verb = verbs[name];
  if (!verb) {
    process.stderr.write(`modelgate: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const mod = await verb.load();
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`modelgate ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
