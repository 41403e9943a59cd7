import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.ts';
import { FakeKubeClient } from './fake-client.test-support.ts';
import { Informer } from './informer.ts';
import { NAMESPACES } from './resources.ts';
import { namespace, silentLogger } from './builders.test-support.ts';
import { KubeApiError } from './types.ts';

function setup(opts: { silenceTimeoutMs?: number; pageSize?: number } = {}) {
  const client = new FakeKubeClient();
  const clock = new FakeClock();
  const events: string[] = [];
  const inf = new Informer({
    client,
    ref: NAMESPACES,
    clock,
    logger: silentLogger,
    pageSize: opts.pageSize ?? 2,
    silenceTimeoutMs: opts.silenceTimeoutMs ?? 60_000,
  });
  inf.addHandlers({
    onAdd: (o) => events.push(`add ${o.metadata.name}`),
    onUpdate: (o) => events.push(`update ${o.metadata.name}`),
    onDelete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  return { client, clock, inf, events };
}

describe('Informer', () => {
  it('lists in pages, then follows the watch', async () => {
    const { client, inf, events } = setup();
    for (const n of ['a', 'b', 'c', 'd', 'e']) client.seed(NAMESPACES, namespace(n));
    inf.start();
    await inf.waitForSync();
    expect(inf.size).toBe(5);
    await flush();
    client.seed(NAMESPACES, namespace('f'));
    client.seed(NAMESPACES, namespace('a', { env: 'prod' }));
    await client.delete(NAMESPACES, 'b');
    expect(events.slice(5)).toEqual(['add f', 'update a', 'delete b']);
    expect(inf.get('a')?.metadata.labels).toEqual({ env: 'prod' });
    inf.stop();
  });

  it('re-lists on 410 Gone and delivers deletes missed meanwhile', async () => {
    const { client, clock, inf, events } = setup();
    client.seed(NAMESPACES, namespace('a'));
    client.seed(NAMESPACES, namespace('b'));
    inf.start();
    await inf.waitForSync();
    client.silenceWatches(); // changes below are missed by the watch...
    await client.delete(NAMESPACES, 'a');
    client.seed(NAMESPACES, namespace('c'));
    client.expireWatches(); // ...and the server then says the watch is too old
    await clock.advance(10);
    expect(inf.stats.relists).toBe(2);
    expect(inf.keys().sort()).toEqual(['b', 'c']);
    expect(events).toContain('delete a');
    expect(events).toContain('add c');
    inf.stop();
  });

  it('restarts a watch that goes silent', async () => {
    const { client, clock, inf } = setup({ silenceTimeoutMs: 30_000 });
    inf.start();
    await inf.waitForSync();
    client.silenceWatches();
    client.seed(NAMESPACES, namespace('missed'));
    await clock.advance(31_000);
    expect(inf.stats.watchRestarts).toBe(1);
    client.seed(NAMESPACES, namespace('seen'));
    expect(inf.get('seen')).toBeDefined();
    inf.stop();
  });

  it('resumes from the last resourceVersion after a normal close', async () => {
    const { client, clock, inf } = setup();
    inf.start();
    await inf.waitForSync();
    client.closeWatches();
    await clock.advance(1);
    expect(client.openWatches).toBe(1);
    expect(inf.stats.relists).toBe(1);
    inf.stop();
    expect(client.openWatches).toBe(0);
  });

  it('backs off on list errors and treats an unserved resource as empty but synced', async () => {
    const { client, clock, inf } = setup();
    client.failNext('list', new KubeApiError(500, 'InternalError', 'boom'));
    inf.start();
    await flush();
    expect(inf.hasSynced()).toBe(false);
    await clock.advance(1000);
    expect(inf.hasSynced()).toBe(true);

    const c2 = new FakeKubeClient();
    c2.notServed.add('namespaces');
    const inf2 = new Informer({ client: c2, ref: NAMESPACES, clock, logger: silentLogger });
    inf2.start();
    await inf2.waitForSync();
    expect(inf2.size).toBe(0);
    inf.stop();
    inf2.stop();
  });

  it('backs off on watch errors and resumes', async () => {
    const { client, clock, inf } = setup();
    inf.start();
    await inf.waitForSync();
    client.failNext('watch', new Error('connection refused'));
    client.closeWatches();
    await clock.advance(1);
    expect(client.openWatches).toBe(0);
    await clock.advance(1000);
    expect(client.openWatches).toBe(1);
    inf.stop();
  });

  it('keeps whole objects without managedFields and the last-applied annotation', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.seed(NAMESPACES, {
      ...namespace('a', { env: 'prod' }),
      metadata: {
        name: 'a',
        labels: { env: 'prod' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}', keep: 'me' },
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:metadata': {} } }],
      } as never,
    });
    const inf = new Informer({ client, ref: NAMESPACES, clock, logger: silentLogger });
    inf.start();
    await inf.waitForSync();
    const a = inf.get('a');
    expect(a?.metadata).not.toHaveProperty('managedFields');
    expect(a?.metadata.annotations).toEqual({ keep: 'me' });
    expect(a?.metadata.labels).toEqual({ env: 'prod' });
    inf.stop();
  });

  it('keeps named indexes in step with adds, updates, deletes and re-lists', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const inf = new Informer({
      client,
      ref: NAMESPACES,
      clock,
      logger: silentLogger,
      pageSize: 1,
      transform: (o) => ({ env: o.metadata.labels?.env }),
      indexes: { env: (v) => v.env },
    });
    client.seed(NAMESPACES, namespace('a', { env: 'prod' }));
    client.seed(NAMESPACES, namespace('b', { env: 'dev' }));
    client.seed(NAMESPACES, namespace('c'));
    inf.start();
    await inf.waitForSync();
    const envs = () =>
      Object.fromEntries(
        inf
          .indexKeys('env')
          .sort()
          .map((e) => [e, [...inf.byIndex('env', e)].sort()]),
      );
    expect(envs()).toEqual({ dev: ['b'], prod: ['a'] });
    await flush();
    client.seed(NAMESPACES, namespace('c', { env: 'prod' }));
    client.seed(NAMESPACES, namespace('b', { env: 'prod' }));
    expect(envs()).toEqual({ prod: ['a', 'b', 'c'] });
    await client.delete(NAMESPACES, 'a');
    expect(envs()).toEqual({ prod: ['b', 'c'] });
    client.silenceWatches();
    await client.delete(NAMESPACES, 'b');
    client.seed(NAMESPACES, namespace('d', { env: 'dev' }));
    client.expireWatches();
    await clock.advance(10);
    expect(envs()).toEqual({ dev: ['d'], prod: ['c'] });
    expect([...inf.byIndex('env', 'none')]).toEqual([]);
    inf.stop();
  });
});
