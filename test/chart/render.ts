// Test helper: render charts/modelgate with helm and look objects up by kind and name.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { chartDir, findHelm, runHelm, type HelmResult } from '../../scripts/render-manifests.ts';

export { chartDir, findHelm, runHelm };

export const release = { name: 'mg', namespace: 'mg-system' } as const;

/** A Kubernetes object as rendered: only the fields tests read are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface Rendered {
  objects: K8sObject[];
  notes: string;
  /** The one object of this kind (and name, when given); throws when absent or ambiguous. */
  get<T = K8sObject>(kind: string, name?: string): T;
  find(kind: string, name?: string): K8sObject | undefined;
  all(kind: string): K8sObject[];
}

let valuesDir: string | undefined;

function valuesFile(values: unknown): string {
  valuesDir ??= mkdtempSync(join(tmpdir(), 'modelgate-chart-'));
  const path = join(valuesDir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, yaml.dump(values));
  return path;
}

/** `helm template` with the given values (merged over the defaults); never throws on a helm error. */
export function template(values: unknown = {}, extraArgs: string[] = []): HelmResult {
  return runHelm([
    'template',
    release.name,
    chartDir,
    '--namespace',
    release.namespace,
    '--values',
    valuesFile(values),
    ...extraArgs,
  ]);
}

/** Renders and parses; throws with helm's stderr on failure. NOTES.txt is rendered too. */
export function render(values: unknown = {}, extraArgs: string[] = []): Rendered {
  const result = template(values, ['--include-crds', ...extraArgs]);
  if (result.code !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parse(result.stdout, renderNotes(values, extraArgs));
}

let notesChart: string | undefined;

/**
 * NOTES.txt as `helm install` would print it. `helm template` skips NOTES and `helm install
 * --dry-run` needs a cluster, so a copy of the chart turns NOTES.txt into a named template that a
 * ConfigMap renders.
 */
export function renderNotes(values: unknown = {}, extraArgs: string[] = []): string {
  if (notesChart === undefined) {
    notesChart = join(mkdtempSync(join(tmpdir(), 'modelgate-notes-')), 'modelgate');
    cpSync(chartDir, notesChart, { recursive: true });
    const notes = readFileSync(join(notesChart, 'templates', 'NOTES.txt'), 'utf8');
    rmSync(join(notesChart, 'templates', 'NOTES.txt'));
    writeFileSync(
      join(notesChart, 'templates', '_notes_for_tests.tpl'),
      `{{- define "test.notes" -}}\n${notes}{{- end -}}\n`,
    );
    writeFileSync(
      join(notesChart, 'templates', 'notes-for-tests.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "test.notes" . | toJson }}\n',
    );
  }
  const result = runHelm([
    'template',
    release.name,
    notesChart,
    '--namespace',
    release.namespace,
    '--values',
    valuesFile(values),
    '--show-only',
    'templates/notes-for-tests.yaml',
    ...extraArgs,
  ]);
  if (result.code !== 0) throw new Error(`rendering NOTES.txt failed:\n${result.stderr}`);
  return parse(result.stdout).get<{ data: { notes: string } }>('ConfigMap', 'notes').data.notes;
}

export function parse(stream: string, notes = ''): Rendered {
  const objects = yaml
    .loadAll(stream)
    .filter((d): d is K8sObject => typeof d === 'object' && d !== null && 'kind' in d);
  const matching = (kind: string, name?: string) =>
    objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  return {
    objects,
    notes,
    all: (kind) => matching(kind),
    find: (kind, name) => matching(kind, name)[0],
    get<T>(kind: string, name?: string): T {
      const found = matching(kind, name);
      if (found.length !== 1)
        throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
      return found[0] as T;
    },
  };
}

// Shapes of the objects the assertions read.
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: unknown;
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  serviceAccountName: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  affinity?: Record<string, unknown>;
  priorityClassName?: string;
  hostNetwork?: boolean;
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}

export interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface Webhook {
  name: string;
  admissionReviewVersions: string[];
  sideEffects: string;
  matchPolicy: string;
  failurePolicy: string;
  timeoutSeconds: number;
  reinvocationPolicy?: string;
  clientConfig: {
    service: { name: string; namespace: string; path: string; port: number };
    caBundle?: string;
  };
  namespaceSelector: LabelSelector;
  objectSelector?: LabelSelector;
  rules?: {
    apiGroups: string[];
    apiVersions: string[];
    resources: string[];
    operations: string[];
    scope?: string;
  }[];
}

export interface WebhookConfiguration extends K8sObject {
  webhooks: Webhook[];
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

export interface Role extends K8sObject {
  rules: PolicyRule[];
}

export interface Binding extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
}

export interface Service extends K8sObject {
  spec: {
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string | number }[];
  };
}
