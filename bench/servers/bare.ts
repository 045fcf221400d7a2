// The baseline: a bare Fastify answering the same payload vidgate answers, with no work behind it.
import Fastify from 'fastify';

const task = JSON.parse(process.env.BENCH_TASK_JSON ?? '{}');
const app = Fastify({ logger: false });
app.post('/v1/videos/generations', async () => task);
app.get('/v1/tasks/:task_id', async () => task);
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${(app.server.address() as { port: number }).port}\n`);
