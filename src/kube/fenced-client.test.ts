import { describe, expect, it } from 'vitest';
import { FakeKubeClient } from './fake-client.test-support.ts';
import { FencedClient, FencedWriteError, type WriteFence } from './fenced-client.ts';
import { CONFIG_MAPS } from './resources.ts';

function fence(): WriteFence & { expire(): void; end(): void } {
  const abort = new AbortController();
  let expired = false;
  return {
    signal: abort.signal,
    refusal: () =>
      abort.signal.aborted
        ? 'ended'
        : expired
          ? 'the lease was not renewed within the renew deadline'
          : undefined,
    expire: () => void (expired = true),
    end: () => abort.abort(),
  };
}

const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' } });

describe('FencedClient', () => {
  it('refuses writes once the lease is past its deadline, before they leave the process', async () => {
    const api = new FakeKubeClient();
    const f = fence();
    const client = new FencedClient(api, f);
    await client.create(CONFIG_MAPS, cm('a'));
    f.expire();
    await expect(client.create(CONFIG_MAPS, cm('b'))).rejects.toThrow(
      'create configmaps/b refused: the lease was not renewed within the renew deadline',
    );
    await expect(client.delete(CONFIG_MAPS, 'a', 'ns')).rejects.toBeInstanceOf(FencedWriteError);
    expect(api.writes.map((w) => `${w.op} ${w.name}`)).toEqual(['create a']);
    expect(await client.get(CONFIG_MAPS, 'a', 'ns')).toBeDefined(); // reads still work
  });

  it('rejects calls in flight when the term ends, and knows when their answers are in', async () => {
    const api = new FakeKubeClient();
    const f = fence();
    let answer: () => void = () => undefined;
    api.create = (ref, obj) =>
      new Promise((resolve) => (answer = () => resolve(FakeKubeClient.prototype.create.call(api, ref, obj))));
    const client = new FencedClient(api, f);
    const pending = client.create(CONFIG_MAPS, cm('slow'));
    let quiet = false;
    void client.quiet().then(() => (quiet = true));
    f.end();
    await expect(pending).rejects.toThrow('create configmaps/slow refused: ended');
    expect(quiet).toBe(false);
    answer();
    await client.quiet();
    expect(quiet).toBe(true);
    await expect(client.list(CONFIG_MAPS)).rejects.toThrow('refused');
  });
});
