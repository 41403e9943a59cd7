import { describe, expect, it } from 'vitest';
import { mountsUnder, parseMountInfo } from './proc.ts';

const MOUNTINFO = `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
45 22 254:0 /work/run/ns /work/run/ns rw,relatime - ext4 /dev/vda rw
46 45 0:4 net:[4026532174] /work/run/ns/net rw - nsfs nsfs rw
80 22 0:60 / /work/run/node/kubelet/pods/a/volumes/kubernetes.io~projected/kube\\040api rw - tmpfs tmpfs rw
81 22 0:61 / /work/run-other/x rw - tmpfs tmpfs rw
82 22 0:62 / /work/run rw - tmpfs tmpfs rw
`;

describe('mountinfo', () => {
  it('parses mount points, file system types and sources, unescaping octal escapes', () => {
    const m = parseMountInfo(MOUNTINFO);
    expect(m).toHaveLength(6);
    expect(m[2]).toMatchObject({
      id: 46,
      parent: 45,
      mountPoint: '/work/run/ns/net',
      fsType: 'nsfs',
      source: 'nsfs',
    });
    expect(m[3]?.mountPoint).toBe('/work/run/node/kubelet/pods/a/volumes/kubernetes.io~projected/kube api');
    expect(m[0]?.optional).toBe('shared:1');
  });

  it('lists the mounts at or under a directory, deepest first, never a sibling with the same prefix', () => {
    expect(mountsUnder(parseMountInfo(MOUNTINFO), '/work/run')).toEqual([
      '/work/run/node/kubelet/pods/a/volumes/kubernetes.io~projected/kube api',
      '/work/run/ns/net',
      '/work/run/ns',
      '/work/run',
    ]);
  });
});
