import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { FileObjectStore } from '../../src/storage/file-store.ts';
import { ObjectMissing, type ObjectStore, StorageUnavailable } from '../../src/storage/index.ts';
import { S3ObjectStore } from '../../src/storage/s3-store.ts';
import { until } from '../helpers/poll.ts';
import { S3_CREDENTIALS, type S3Server, startS3Server } from '../helpers/s3.ts';

Object.assign(process.env, S3_CREDENTIALS); // the SDK's default credential chain reads them

const MB = 1024 * 1024;

/** A stream of `size` bytes made as it is read, with no length known in advance. */
function streamOf(bytes: Buffer, chunk = 64 * 1024): Readable {
  let at = 0;
  return new Readable({
    read() {
      this.push(at < bytes.length ? bytes.subarray(at, (at += chunk)) : null);
    },
  });
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function readAll(store: ObjectStore, key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(key, range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

type Kind = { name: string; open(): Promise<{ store: ObjectStore; close(): Promise<void> }> };

let s3: S3Server;
const scratchRoot = mkdtempSync(path.join(tmpdir(), 'vidgate-objects-'));
before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  await s3.close();
  rmSync(scratchRoot, { recursive: true, force: true });
});

const s3Store = (bucket = s3.bucket, prefix = 'vg/') => new S3ObjectStore({
  bucket, prefix, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, scratchDir: mkdtempSync(path.join(scratchRoot, 'scratch-')),
});

const KINDS: Kind[] = [
  { name: 'file', open: async () => {
    const dir = mkdtempSync(path.join(scratchRoot, 'file-'));
    return { store: new FileObjectStore(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
  } },
  { name: 's3 (s3rver)', open: async () => ({ store: s3Store(), close: async () => {} }) },
];

for (const kind of KINDS) {
  describe(`the ${kind.name} object store`, () => {
    let store: ObjectStore;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await kind.open());
      await store.check();
    });
    after(() => close());

    it('streams in 20 MB of unknown length (multipart on S3) and gives back the identical bytes', async () => {
      const bytes = randomBytes(20 * MB);
      await store.put('results/big.mp4', streamOf(bytes), { contentType: 'video/mp4' });
      const back = await readAll(store, 'results/big.mp4');
      assert.equal(back.length, bytes.length);
      assert.equal(sha(back), sha(bytes), 'no chunk framing or other bytes stored inside the object');
      const info = await store.head('results/big.mp4');
      assert.equal(info?.size, bytes.length);
      assert.ok(Math.abs(info!.modified - Date.now()) < 120_000);
    });

    it('reads a range, both ends included', async () => {
      await store.put('files/abc.bin', streamOf(Buffer.from('0123456789abcdef')));
      assert.equal((await readAll(store, 'files/abc.bin', { start: 3, end: 6 })).toString(), '3456');
      assert.equal((await readAll(store, 'files/abc.bin', { start: 10, end: 15 })).toString(), 'abcdef');
    });

    it('moves a local file in (the file is gone) and copies an object out to a local file', async () => {
      const file = path.join(scratchRoot, `in-${kind.name.length}.png`);
      writeFileSync(file, 'picture bytes');
      await store.moveIn('inputs/task-1/image_start', file, { contentType: 'image/png' });
      assert.equal(existsSync(file), false);
      const out = path.join(scratchRoot, `out-${kind.name.length}.png`);
      await store.copyToFile('inputs/task-1/image_start', out);
      assert.equal(readFileSync(out, 'utf8'), 'picture bytes');
      const local = await store.localFile('inputs/task-1/image_start', path.join(scratchRoot, `local-${kind.name.length}`));
      assert.equal(readFileSync(local, 'utf8'), 'picture bytes');
    });

    it('answers a missing object: head null, read and copy ObjectMissing', async () => {
      assert.equal(await store.head('results/none.mp4'), null);
      await assert.rejects(store.read('results/none.mp4'), ObjectMissing);
      await assert.rejects(store.copyToFile('results/none.mp4', path.join(scratchRoot, 'none')), ObjectMissing);
    });

    it('lists under a prefix at any depth in batches, and deletes one object or a whole prefix', async () => {
      for (const name of ['a', 'b', 'c', 'd', 'e']) await store.put(`inputs/task-2/${name}`, streamOf(Buffer.from(name)));
      await store.put('inputs/task-3/x', streamOf(Buffer.from('x')));
      const batches: string[][] = [];
      for await (const batch of store.list('inputs/task-2/', 2)) batches.push(batch.map((object) => object.key));
      assert.deepEqual(batches.flat().sort(), ['a', 'b', 'c', 'd', 'e'].map((n) => `inputs/task-2/${n}`));
      assert.ok(batches.every((batch) => batch.length <= 2) && batches.length >= 3);
      const everything: string[] = [];
      for await (const batch of store.list('inputs/', 100)) everything.push(...batch.map((object) => object.key));
      assert.ok(everything.includes('inputs/task-3/x') && everything.includes('inputs/task-1/image_start'));
      await store.delete('inputs/task-2/a');
      await store.deletePrefix('inputs/task-2/');
      for await (const batch of store.list('inputs/task-2/', 100)) assert.deepEqual(batch, []);
      assert.ok(await store.head('inputs/task-3/x'), 'other prefixes untouched');
      await store.delete('inputs/task-2/never-was'); // deleting what is not there is not an error
    });
  });
}

describe('S3 presigned URLs (s3rver)', () => {
  it('serve the object with Range, as an attachment when asked, and stop at their expiry', async () => {
    const store = s3Store();
    await store.put('results/clip.mp4', streamOf(Buffer.from('0123456789')), { contentType: 'video/mp4' });
    const url = await store.presign('results/clip.mp4', 3600, { contentType: 'video/mp4', downloadName: 'clip.mp4' });
    assert.ok(url.startsWith(`${s3.endpoint}/${s3.bucket}/vg/results/clip.mp4?`), url);
    const part = await fetch(url, { headers: { range: 'bytes=2-4' } });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), '234');
    assert.equal(part.headers.get('content-disposition'), 'attachment; filename="clip.mp4"');

    const short = await store.presign('results/clip.mp4', 1);
    assert.equal(new URL(short).searchParams.get('X-Amz-Expires'), '1');
    // Waits for the expiry itself: once past it, the storage refuses the URL for good, saying why.
    let refusal = '';
    await until(async () => {
      const answer = await fetch(short);
      refusal = await answer.text();
      return answer.status === 403;
    }, 'the presigned URL expired');
    assert.match(refusal, /<Message>Request has expired<\/Message>/);
  });
});

describe('S3 faults, each named', () => {
  it('a missing bucket, refused credentials and an unreachable endpoint stop check() saying which setting', async () => {
    await assert.rejects(s3Store('no-such-bucket').check(), (error: Error) => {
      assert.ok(error instanceof StorageUnavailable);
      assert.match(error.message, /^VIDGATE_STORAGE_URL: the bucket "no-such-bucket" does not exist/);
      return true;
    });
    const key = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = 'SOMEONE-ELSE';
    try {
      await assert.rejects(s3Store().check(), /refused the credentials \(AWS_ACCESS_KEY_ID/);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = key;
    }
  });

  it('an outage turns reads and writes into StorageUnavailable, and they work again when it is back', async () => {
    const store = s3Store();
    await store.put('results/before.mp4', streamOf(Buffer.from('before')));
    await s3.stop();
    try {
      await assert.rejects(store.head('results/before.mp4'), StorageUnavailable);
      await assert.rejects(store.put('results/during.mp4', streamOf(Buffer.from('during'))), StorageUnavailable);
      await assert.rejects(store.check(), StorageUnavailable);
    } finally {
      await s3.start();
    }
    assert.equal(await text(await store.read('results/before.mp4')), 'before');
  });
});
