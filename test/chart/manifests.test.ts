// Generated install artifacts stay in step with their sources: the chart's CRDs with crds/ (which
// src/api/schema.ts generates), manifests/install.yaml with the chart, and the policy NOTES.txt
// shows with the API.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { parsePolicy, formatFieldErrors } from '../../src/api/validate.ts';
import {
  chartCrds,
  crdSources,
  installManifestPath,
  installRelease,
  renderInstallManifest,
} from '../../scripts/render-manifests.ts';
import { parse, renderNotes, type Deployment, type WebhookConfiguration } from './render.ts';

const fix = 'run `node --import tsx scripts/render-manifests.ts` and commit the result';

describe('generated manifests', () => {
  it('ships exactly the CRDs in crds/, byte for byte', () => {
    const want = crdSources();
    expect(want.size).toBeGreaterThan(0);
    const have = chartCrds();
    expect([...have.keys()], fix).toEqual([...want.keys()]);
    for (const [file, content] of want)
      expect(
        have.get(file) === content,
        `charts/modelgate/crds/${file} differs from crds/${file}; ${fix}`,
      ).toBe(true);
  });

  it('keeps manifests/install.yaml equal to the chart rendered with default values', () => {
    const current = readFileSync(installManifestPath, 'utf8');
    const expected = renderInstallManifest();
    expect(current === expected, `manifests/install.yaml is stale; ${fix}`).toBe(true);
  });

  it('install.yaml creates its namespace first, then the CRDs, then everything in that namespace', () => {
    const docs = parse(readFileSync(installManifestPath, 'utf8')).objects;
    expect(docs[0]).toMatchObject({
      kind: 'Namespace',
      metadata: {
        name: installRelease.namespace,
        labels: { 'pod-security.kubernetes.io/enforce': 'restricted' },
      },
    });
    const firstNonCrd = docs.findIndex((d, i) => i > 0 && d.kind !== 'CustomResourceDefinition');
    expect(docs.slice(1, firstNonCrd).map((d) => d.kind)).toEqual([
      'CustomResourceDefinition',
      'CustomResourceDefinition',
    ]);
    for (const d of docs.filter((d) => d.metadata.namespace !== undefined))
      expect(d.metadata.namespace).toBe(installRelease.namespace);
    const hook = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration') as WebhookConfiguration;
    expect(hook.webhooks[0]?.namespaceSelector.matchExpressions?.[0]?.values).toContain(
      installRelease.namespace,
    );
    expect(
      (docs.filter((d) => d.kind === 'Deployment') as Deployment[]).map((d) => d.metadata.name).sort(),
    ).toEqual(['modelgate-controller', 'modelgate-webhook']);
  });
});

describe('NOTES.txt', () => {
  it('shows an example policy that the API accepts', () => {
    const notes = renderNotes();
    const block = /<<'YAML'\n([\s\S]*?)\n\s*YAML\n/.exec(notes)?.[1];
    expect(block).toBeDefined();
    const policy = yaml.load(block!.replace(/^ {5}/gm, '')) as unknown;
    const parsed = parsePolicy(policy);
    expect(parsed.ok ? '' : formatFieldErrors(parsed.errors)).toBe('');
  });
});
