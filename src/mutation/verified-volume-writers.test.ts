import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameStorage, writersAfterVerifier } from './verified-volume-writers.ts';

type Obj = Record<string, unknown>;
const verifier = {
  name: 'modelgate-verifier',
  volumeMounts: [{ name: 'model', mountPath: '/models/model', readOnly: true }],
};
const mount = (name: string, readOnly?: boolean) => ({
  name,
  mountPath: `/${name}`,
  ...(readOnly === undefined ? {} : { readOnly }),
});
const spec = (over: Obj): Obj => ({
  volumes: [{ name: 'model', emptyDir: {} }],
  initContainers: [verifier],
  containers: [{ name: 'server', volumeMounts: [mount('model', true)] }],
  ...over,
});
const writers = (s: Obj, index = 0) => writersAfterVerifier(s, new Set(['model']), index);

describe('writersAfterVerifier', () => {
  it('admits read-only mounts everywhere after the verifier', () => {
    expect(writers(spec({}))).toEqual([]);
  });

  it('finds the server, a later init container and a sidecar before the verifier', () => {
    const s = spec({
      initContainers: [
        { name: 'storage-initializer', volumeMounts: [mount('model')] },
        { name: 'log-shipper', restartPolicy: 'Always', volumeMounts: [mount('model', false)] },
        verifier,
        { name: 'swap', volumeMounts: [mount('model')] },
      ],
      containers: [{ name: 'server', volumeMounts: [mount('model')] }],
    });
    expect(writers(s, 2).map((w) => w.container)).toEqual([
      'initContainers[1] "log-shipper" (a sidecar: it keeps running)',
      'initContainers[3] "swap"',
      'containers[0] "server"',
    ]);
  });

  it('never counts an image volume (the kubelet mounts it read-only) or a writer before the verifier', () => {
    const s = spec({
      volumes: [{ name: 'model', image: { reference: 'r/m@sha256:' + 'a'.repeat(64) } }],
      initContainers: [{ name: 'storage-initializer', volumeMounts: [mount('model')] }, verifier],
      containers: [{ name: 'server', volumeMounts: [mount('model')] }],
    });
    expect(writers(s, 1)).toEqual([]);
  });

  it('follows aliases of the same storage: one claim, overlapping host paths', () => {
    const s = spec({
      volumes: [
        { name: 'model', persistentVolumeClaim: { claimName: 'w' } },
        { name: 'same-claim', persistentVolumeClaim: { claimName: 'w', readOnly: false } },
        { name: 'other-claim', persistentVolumeClaim: { claimName: 'x' } },
      ],
      containers: [
        { name: 'server', volumeMounts: [mount('model', true), mount('same-claim'), mount('other-claim')] },
      ],
    });
    expect(writers(s)).toEqual([
      { container: 'containers[0] "server"', volume: 'same-claim', verified: 'model' },
    ]);
    expect(
      sameStorage(
        { name: 'a', hostPath: { path: '/data/models/llama' } },
        { name: 'b', hostPath: { path: '/data/./models' } },
      ),
    ).toBe(true);
    expect(
      sameStorage(
        { name: 'a', hostPath: { path: '/data/models' } },
        { name: 'b', hostPath: { path: '/data/modelsX' } },
      ),
    ).toBe(false);
    expect(
      sameStorage(
        { name: 'a', hostPath: { path: '/data/models' } },
        { name: 'b', hostPath: { path: '/data/x/../models/y' } },
      ),
    ).toBe(true);
    expect(
      sameStorage(
        { name: 'a', nfs: { server: 's', path: '/export' } },
        { name: 'b', nfs: { server: 's', path: '/export/m' } },
      ),
    ).toBe(true);
    expect(
      sameStorage(
        { name: 'a', csi: { driver: 'd', volumeAttributes: { x: '1' } } },
        { name: 'b', csi: { volumeAttributes: { x: '1' }, driver: 'd' } },
      ),
    ).toBe(true);
    expect(sameStorage({ name: 'a', emptyDir: {} }, { name: 'b', emptyDir: {} })).toBe(false);
  });

  it('property: a mount with readOnly: true is never a writer, whatever the volume', () => {
    const volume = fc.oneof(
      fc.record({ name: fc.constant('v'), emptyDir: fc.constant({}) }),
      fc.record({
        name: fc.constant('v'),
        persistentVolumeClaim: fc.record({ claimName: fc.constantFrom('w', 'x') }),
      }),
      fc.record({
        name: fc.constant('v'),
        hostPath: fc.record({ path: fc.constantFrom('/', '/d', '/d/m', '/e') }),
      }),
    );
    fc.assert(
      fc.property(volume, fc.boolean(), (v, sidecar) => {
        const s = {
          volumes: [{ name: 'model', hostPath: { path: '/d/m' } }, v],
          initContainers: [
            verifier,
            { name: 'i', ...(sidecar ? { restartPolicy: 'Always' } : {}), volumeMounts: [mount('v', true)] },
          ],
          containers: [{ name: 'c', volumeMounts: [mount('v', true), mount('model', true)] }],
        };
        return writers(s).length === 0;
      }),
    );
  });
});
