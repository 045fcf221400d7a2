import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FfmpegError, runFfmpeg } from '../../src/media/ffmpeg.ts';
import { fixturesDir } from '../helpers/fixtures.ts';

const signal = () => new AbortController().signal;

describe('ffmpeg runs bounded (CONTRACT §8.2, §8.11)', () => {
  it('is killed past its time cap', async () => {
    const args = ['-f', 'lavfi', '-i', 'testsrc2=s=640x360:d=3600', '-f', 'null', '-'];
    await assert.rejects(runFfmpeg({ ffmpegPath: 'ffmpeg', args, signal: signal(), timeoutMs: 300 }), (error: FfmpegError) => /time cap/.test(error.message));
  });

  it('reads only local files of the allowed containers: a playlist pointing at a URL is refused unread', async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-ffmpeg-'));
    const list = path.join(dir, 'list.txt');
    writeFileSync(list, `ffconcat version 1.0\nfile 'http://127.0.0.1:${(server.address() as AddressInfo).port}/x.mp4'\n`);
    try {
      for (const input of [['-f', 'concat', '-safe', '0', '-i', list], ['-i', list], ['-i', `http://127.0.0.1:${(server.address() as AddressInfo).port}/y.mp4`]]) {
        await assert.rejects(runFfmpeg({ ffmpegPath: 'ffmpeg', args: [...input, '-f', 'null', '-'], signal: signal() }), FfmpegError, input.join(' '));
      }
      assert.deepEqual(hits, [], 'ffmpeg opened no URL');
      // A local file of an allowed container still reads.
      await runFfmpeg({ ffmpegPath: 'ffmpeg', args: ['-i', path.join(fixturesDir(), 'clip-1s-640x360.mp4'), '-f', 'null', '-'], signal: signal() });
    } finally {
      server.close();
    }
  });
});
