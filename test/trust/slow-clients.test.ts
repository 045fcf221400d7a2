import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** A raw connection to the server; `closed` resolves when the server cuts it. */
function open(server: TestServer): Promise<{ socket: Socket; closed: Promise<string> }> {
  const { port } = new URL(server.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      const closed = new Promise<string>((done) => socket.on('close', () => done(answer)));
      resolve({ socket, closed });
    });
    socket.on('error', reject);
  });
}

describe('slow clients (CONTRACT §8.5)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ VIDGATE_HEADERS_TIMEOUT: '1s', VIDGATE_IDLE_TIMEOUT: '1s' });
  });
  after(() => server.close());

  it('cuts 300 connections whose headers never finish, dripping or silent, while others are answered', async () => {
    const slow = await Promise.all(Array.from({ length: 300 }, () => open(server)));
    const drips: NodeJS.Timeout[] = [];
    slow.forEach(({ socket }, i) => {
      socket.write('POST /v1/videos/generations HTTP/1.1\r\nHost: x\r\n');
      // Half drip a header byte every 200 ms (never idle), half go silent.
      if (i % 2 === 0) drips.push(setInterval(() => socket.writable && socket.write('X'), 200));
    });
    try {
      for (let i = 0; i < 20; i += 1) {
        const res = await server.call('GET', '/v1/credits');
        assert.equal(res.status, 200);
      }
      const answers = await Promise.all(slow.map(({ closed }) => closed));
      // Node answers 408 to a request whose headers ran out of time, and closes.
      assert.ok(answers.every((answer) => answer === '' || answer.startsWith('HTTP/1.1 408')), answers.find((a) => a && !a.startsWith('HTTP/1.1 408')));
    } finally {
      drips.forEach(clearInterval);
    }
  });

  it('cuts a request whose body stalls, and creates nothing', async () => {
    const { socket, closed } = await open(server);
    const body = JSON.stringify({ model: 'wan2.7-text-to-video', prompt: 'never finished' });
    socket.write(
      `POST /v1/videos/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n${body}`,
    );
    const answer = await closed;
    assert.doesNotMatch(answer, /^HTTP\/1\.1 200/);
    const tasks = await server.call('GET', '/v1/tasks');
    assert.deepEqual(tasks.body.data, []);
  });
});
