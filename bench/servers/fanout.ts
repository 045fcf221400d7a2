// The floor for task events: a bare Node TCP server that, on each line `write` on stdin, writes one
// event-sized frame to every connection it holds and prints how long the loop of writes took.
import { createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const frame = Buffer.from(`id: 1764812345678150\nevent: task\ndata: ${JSON.stringify({ pad: 'x'.repeat(560) })}\n\n`);
const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`));
createInterface({ input: process.stdin }).on('line', () => {
  const start = performance.now();
  for (const socket of sockets) socket.write(frame);
  process.stdout.write(`wrote ${sockets.size} ${(performance.now() - start).toFixed(1)}\n`);
});
