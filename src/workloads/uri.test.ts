import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseModelUri, parseOciReference } from './uri.ts';

const D = 'sha256:' + 'c'.repeat(64);

describe('parseOciReference', () => {
  it.each([
    ['ubuntu', 'oci://docker.io/library/ubuntu:latest', false],
    ['quay.io/crio/artifact:v2', 'oci://quay.io/crio/artifact:v2', false],
    [`registry.example.com/models/llama@${D}`, `oci://registry.example.com/models/llama@${D}`, true],
    [`registry.example.com:5000/m/llama:1.0@${D}`, `oci://registry.example.com:5000/m/llama:1.0@${D}`, true],
    ['localhost/model', 'oci://localhost/model:latest', false],
    ['index.docker.io/org/model:1', 'oci://docker.io/org/model:1', false],
    // A registry is a host name: one spelling, whatever its case (the repository stays lower case only).
    ['Registry.Example.COM:5000/m/llama:1', 'oci://registry.example.com:5000/m/llama:1', false],
    ['GHCR.io/vllm-project/vllm:1', 'oci://ghcr.io/vllm-project/vllm:1', false],
  ])('%s → %s (pinned %s)', (ref, uri, pinned) => {
    const r = parseOciReference(ref);
    expect(r.ok && r.value.uri).toBe(uri);
    expect(r.ok && r.value.pinned).toBe(pinned);
  });

  it.each(['', 'Has/Upper', 'reg.io/m@sha256:abc', 'reg.io/m:bad tag', 'reg.io/m@md5:' + 'a'.repeat(32)])(
    'rejects %j',
    (ref) => {
      expect(parseOciReference(ref).ok).toBe(false);
    },
  );

  it('says how to pin a tag', () => {
    const r = parseOciReference('reg.io/m:v1');
    expect(r.ok && r.value.unpinnedReason).toContain('pin it as reg.io/m@sha256:<digest>');
  });
});

describe('parseModelUri', () => {
  it.each([
    ['hf://meta-llama/Llama-2-7b-chat-hf', 'hf://meta-llama/Llama-2-7b-chat-hf', false],
    ['hf://org/m:main', 'hf://org/m:main', false],
    [`hf://org/m:${'a'.repeat(40)}`, `hf://org/m:${'a'.repeat(40)}`, true],
    ['oci+native://ghcr.io/my-org/my-sklearn-model:v1', 'oci://ghcr.io/my-org/my-sklearn-model:v1', false],
    [`oci://ghcr.io/o/m@${D}`, `oci://ghcr.io/o/m@${D}`, true],
    ['s3://bucket/models/x', 's3://bucket/models/x', false],
    ['gs://b/p', 'gs://b/p', false],
    ['pvc://claim/sub', 'pvc://claim/sub', false],
    ['https://acct.blob.core.windows.net/c/m', 'https://acct.blob.core.windows.net/c/m', false],
  ])('%s', (raw, uri, pinned) => {
    const r = parseModelUri(raw);
    expect(r.ok && r.value.uri).toBe(uri);
    expect(r.ok && r.value.pinned).toBe(pinned);
  });

  it('classifies Azure blob URLs', () => {
    const r = parseModelUri('https://acct.blob.core.windows.net/c/m');
    expect(r.ok && r.value.scheme).toBe('azure');
  });

  it.each(['ftp://x/y', 'no-scheme', 'hf://justone', 's3://'])('rejects %j with a reason', (raw) => {
    const r = parseModelUri(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(10);
  });

  it('never throws and a pinned OCI reference always carries its digest', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const r of [
          parseModelUri(s),
          parseOciReference(s),
          parseModelUri(`oci://${s}`),
          parseModelUri(`hf://${s}`),
        ]) {
          if (r.ok && r.value.pinned) expect(r.value.digest).toBeTruthy();
        }
      }),
      { numRuns: 2000 },
    );
  });
});
