// Keeps the generated install artifacts in step with their sources:
//   crds/*.yaml            -> charts/modelgate/crds/*.yaml   (byte-identical copies: packaged charts
//                                                            cannot carry symlinks)
//   charts/modelgate       -> manifests/install.yaml        (`helm template` with default values)
//
// Usage: node --import tsx scripts/render-manifests.ts [--check]
//   --check: write nothing; exit 1 and name the stale files if anything is out of date.
//
// helm comes from the local control-plane build (scripts/cluster/build.sh); see findHelm().
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const chartDir = join(repoRoot, 'charts', 'modelgate');
export const installManifestPath = join(repoRoot, 'manifests', 'install.yaml');
const crdSourceDir = join(repoRoot, 'crds');
const chartCrdDir = join(chartDir, 'crds');

/** Release name and namespace that manifests/install.yaml is rendered for. */
export const installRelease = { name: 'modelgate', namespace: 'modelgate' } as const;

export const helmBuildHint =
  'helm is built from source with the local control plane: run `scripts/cluster/build.sh` ' +
  '(it reuses its cache under ~/.cache/modelgate/k8s when present), or set MODELGATE_HELM=/path/to/helm';

/**
 * Locates helm the way every entry point does (tests, this script, CI):
 *   1. $MODELGATE_HELM;
 *   2. .cache/k8s/bin/helm, the link scripts/cluster/build.sh leaves in the clone;
 *   3. a completed build in the out-of-clone cache ($MODELGATE_CACHE or ~/.cache/modelgate):
 *      k8s/<version>-<hash>/bin/helm, then helm-<version>/helm; newest first.
 * Throws with the build command when none exists.
 */
export function findHelm(): string {
  const fromEnv = process.env.MODELGATE_HELM;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`MODELGATE_HELM=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const candidates = [join(repoRoot, '.cache', 'k8s', 'bin', 'helm')];
  const cacheRoot = process.env.MODELGATE_CACHE ?? join(homedir(), '.cache', 'modelgate');
  const k8sCache = join(cacheRoot, 'k8s');
  const built = listDirs(k8sCache)
    .filter((d) => !d.startsWith('.') && existsSync(join(k8sCache, d, '.complete')))
    .map((d) => join(k8sCache, d, 'bin', 'helm'));
  const standalone = listDirs(cacheRoot)
    .filter((d) => d.startsWith('helm-'))
    .map((d) => join(cacheRoot, d, 'helm'));
  candidates.push(...newestFirst(built), ...newestFirst(standalone));
  const found = candidates.find(isExecutable);
  if (!found)
    throw new Error(`helm not found (looked in: ${candidates.join(', ') || k8sCache}). ${helmBuildHint}`);
  return found;
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function newestFirst(paths: string[]): string[] {
  const mtime = (p: string) => (existsSync(p) ? statSync(p).mtimeMs : 0);
  return [...paths].sort((a, b) => mtime(b) - mtime(a));
}

function isExecutable(path: string): boolean {
  try {
    const st = statSync(realpathSync(path));
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its config, cache and data dirs isolated from the user's (no repos, no plugins). */
export function runHelm(
  args: string[],
  options: { helm?: string; env?: NodeJS.ProcessEnv } = {},
): HelmResult {
  const helm = options.helm ?? findHelm();
  const home = join(repoRoot, '.cache', 'helm-home');
  const result = spawnSync(helm, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? home,
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
      ...options.env,
    },
  });
  if (result.error) throw result.error;
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** The files crds/ and charts/modelgate/crds/ must both hold, with their contents. */
export function crdSources(): Map<string, string> {
  const files = readdirSync(crdSourceDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return new Map(files.map((f) => [f, readFileSync(join(crdSourceDir, f), 'utf8')]));
}

/** The chart's CRD directory as it is on disk. */
export function chartCrds(): Map<string, string> {
  if (!existsSync(chartCrdDir)) return new Map();
  const files = readdirSync(chartCrdDir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml') || f.endsWith('.json'))
    .sort();
  return new Map(files.map((f) => [f, readFileSync(join(chartCrdDir, f), 'utf8')]));
}

const installHeader = `# modelgate: everything \`helm install modelgate charts/modelgate -n modelgate\` creates, with the
# chart's default values, plus the namespace. Generated by scripts/render-manifests.ts; do not edit.
#
#   kubectl apply --server-side -f manifests/install.yaml
#
# For any other setting (cert-manager, replicas, failurePolicy, images) install the chart instead.
# Operations (upgrade, uninstall, emergency bypass): docs/operations.md
`;

// Pod Security "restricted" on modelgate's namespace: its own pods meet it, and nothing else belongs there.
const namespaceDoc = `apiVersion: v1
kind: Namespace
metadata:
  name: ${installRelease.namespace}
  labels:
    app.kubernetes.io/name: modelgate
    app.kubernetes.io/part-of: modelgate
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
`;

/** manifests/install.yaml as it should be, rendered from the chart (CRDs as in crds/). */
export function renderInstallManifest(helm?: string): string {
  const result = runHelm(
    ['template', installRelease.name, chartDir, '--namespace', installRelease.namespace, '--include-crds'],
    helm === undefined ? {} : { helm },
  );
  if (result.code !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  const body = result.stdout.replace(/^---\n/, '');
  return `${installHeader}---\n${namespaceDoc}---\n${body.endsWith('\n') ? body : `${body}\n`}`;
}

interface Change {
  path: string;
  content?: string; // undefined: delete
}

function pendingChanges(helm?: string): Change[] {
  const changes: Change[] = [];
  const want = crdSources();
  const have = chartCrds();
  for (const [file, content] of want) {
    if (have.get(file) !== content) changes.push({ path: join(chartCrdDir, file), content });
  }
  for (const file of have.keys()) if (!want.has(file)) changes.push({ path: join(chartCrdDir, file) });
  const manifest = renderInstallManifest(helm);
  const current = existsSync(installManifestPath) ? readFileSync(installManifestPath, 'utf8') : undefined;
  if (current !== manifest) changes.push({ path: installManifestPath, content: manifest });
  return changes;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`usage: render-manifests [--check]   (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  // CRDs first: the manifest embeds the chart's copies.
  if (!check) {
    for (const c of pendingChanges().filter((c) => c.path.startsWith(chartCrdDir))) apply(c);
  }
  const changes = pendingChanges();
  if (check) {
    for (const c of changes) console.error(`stale: ${relative(repoRoot, c.path)}`);
    if (changes.length > 0) console.error('run: node --import tsx scripts/render-manifests.ts');
    return changes.length > 0 ? 1 : 0;
  }
  for (const c of changes) apply(c);
  if (changes.length === 0) console.log('manifests up to date');
  return 0;
}

function apply(change: Change): void {
  if (change.content === undefined) {
    rmSync(change.path);
    console.log(`removed ${relative(repoRoot, change.path)}`);
    return;
  }
  mkdirSync(dirname(change.path), { recursive: true });
  writeFileSync(change.path, change.content);
  console.log(`wrote ${relative(repoRoot, change.path)}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
