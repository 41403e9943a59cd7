// Property: any single-byte change, added, removed or renamed file in a random model tree fails
// verification, and the untouched tree verifies (except what the shard format cannot see: empty files).
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSigner, signModel, verifyModel, type TrustMaterial } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-props-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = loadSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const trust: TrustMaterial = {
  method: 'key',
  publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

const segment = fc.stringMatching(/^[a-z0-9_][a-z0-9_.-]{0,7}$/).filter((s) => !s.startsWith('.'));
const tree = fc.uniqueArray(
  fc.tuple(
    fc.array(segment, { minLength: 1, maxLength: 3 }).map((p) => p.join('/')),
    fc.uint8Array({ maxLength: 64 }),
  ),
  {
    minLength: 1,
    maxLength: 6,
    selector: ([p]) => p,
  },
);
type Mutation =
  | { kind: 'flip'; file: number; at: number; xor: number }
  | { kind: 'add' }
  | { kind: 'remove'; file: number }
  | { kind: 'rename'; file: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    file: fc.nat(),
    at: fc.nat(),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant('add' as const) }),
  fc.record({ kind: fc.constant('remove' as const), file: fc.nat() }),
  fc.record({ kind: fc.constant('rename' as const), file: fc.nat() }),
);

let run = 0;
describe('tampering properties', () => {
  it('every mutation of a signed random tree is detected', async () => {
    await fc.assert(
      fc.asyncProperty(tree, mutation, fc.constantFrom('files', 'shards'), async (files, m, method) => {
        // Paths must not clash as file and directory ("a" and "a/b").
        const names = files.map(([p]) => p);
        fc.pre(names.every((a) => names.every((b) => !b.startsWith(a + '/'))));
        // A sharded tree of empty files has no resource: sign refuses it (OMS v1.0 §5.2.1, tested apart).
        fc.pre(method === 'files' || files.some(([, b]) => b.length > 0));
        const root = join(tmp, `m${run++}`);
        for (const [p, bytes] of files) {
          mkdirSync(dirname(join(root, p)), { recursive: true });
          writeFileSync(join(root, p), bytes);
        }
        const opts = { workers: 0, method, shardSize: 16 } as const;
        const { bundle } = await signModel(root, signer, opts);
        expect((await verifyModel(root, bundle, trust, { workers: 0 })).reason).toBe('');

        const [name, bytes] = files[('file' in m ? m.file : 0) % files.length] ?? ['', new Uint8Array()];
        const path = join(root, name);
        // model_signing's shard format has no entry for an empty file, so an empty file's removal or
        // renaming cannot be seen in "shards" mode (a known limit of the format; "files" mode sees it).
        fc.pre(!(method === 'shards' && bytes.length === 0 && (m.kind === 'remove' || m.kind === 'rename')));
        if (m.kind === 'flip') {
          fc.pre(bytes.length > 0);
          const copy = Buffer.from(readFileSync(path));
          const i = m.at % copy.length;
          copy[i] = (copy[i] ?? 0) ^ m.xor;
          writeFileSync(path, copy);
        } else if (m.kind === 'add') {
          writeFileSync(join(root, 'added.bin'), 'x');
        } else if (m.kind === 'remove') {
          unlinkSync(path);
        } else {
          renameSync(path, `${path}.renamed`);
        }
        const r = await verifyModel(root, bundle, trust, { workers: 0 });
        expect(r.verdict).toBe('invalid');
        expect(r.missing.length + r.extra.length + r.changed.length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });
});
