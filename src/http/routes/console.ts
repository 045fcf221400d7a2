import fastifyStatic from '@fastify/static';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requestJsonSchema } from '../../contract/model-spec.ts';
import { MODELS } from '../../contract/models/index.ts';
import { sdkJavaScript } from '../../sdk/javascript.ts';

const ASSETS = new URL('../../console/', import.meta.url).pathname;
// The page talks only to this origin; result videos may come from VIDGATE_PUBLIC_URL, wherever that is.
const CSP = "default-src 'self'; img-src 'self' data: blob:; media-src * blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** Chart.js's browser build, from node_modules (its package exports do not name the file, so found next to its entry point). */
function chartJs(): string {
  const entry = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(path.join(path.dirname(entry), 'chart.umd.min.js'), 'utf8');
}

/** The web consoles: /console (a user's) and /admin (an operator's), their static assets, Chart.js, the SDK as JavaScript, and each model's request schema (JSON Schema). */
export const consoleRoutes: FastifyPluginAsyncZod = async (app) => {
  const sdk = sdkJavaScript();
  const charts = chartJs();
  const models = JSON.stringify(
    Object.values(MODELS).map((model) => ({ id: model.id, family: model.family, kind: model.kind, schema: requestJsonSchema(model) })),
  );
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
  });
  await app.register(fastifyStatic, { root: ASSETS, prefix: '/console/', index: 'index.html', cacheControl: false });
  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/'));
  app.get('/console/sdk.js', { schema: { hide: true } }, (_request, reply) => reply.type('text/javascript; charset=utf-8').send(sdk));
  app.get('/console/vendor/chart.umd.min.js', { schema: { hide: true } }, (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(charts));
  app.get('/admin', { schema: { hide: true } }, (_request, reply) => reply.redirect('/admin/'));
  app.get('/admin/', { schema: { hide: true } }, (_request, reply) => reply.sendFile('admin.html'));
  app.get('/console/models.json', { schema: { hide: true } }, (_request, reply) => reply.type('application/json').send(models));
};
