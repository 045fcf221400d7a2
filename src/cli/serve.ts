import { type App, createApp } from '../app.ts';
import { settingsOrExit } from './settings.ts';
import { startOrExit } from './startup-errors.ts';

/** `serve`: the API, and a worker unless `--no-worker` (the embedded default runs both). */
export async function serveCommand(options: { worker: boolean }): Promise<void> {
  const settings = settingsOrExit();
  const app = await startOrExit(settings, 'store', () => createApp({ settings, worker: options.worker }));
  const { bootstrap } = app;
  if (bootstrap.created && bootstrap.generated) {
    process.stdout.write(
      `\nCreated the first API key (shown once, store it now):\n  ${bootstrap.key}\n` +
        `Its user's webhook signing secret:\n  ${bootstrap.webhookSecret}\n\n`,
    );
  } else if (bootstrap.created && !bootstrap.secretConfigured) {
    process.stdout.write(`\nStored VIDGATE_BOOTSTRAP_KEY. Its user's webhook signing secret (bin/vidgate keys webhook-secret --user default shows it again):\n  ${bootstrap.webhookSecret}\n\n`);
  }
  if (bootstrap.adminKey) {
    process.stdout.write(`Created the first admin key, for /admin and /admin/v1 (shown once, store it now):\n  ${bootstrap.adminKey}\n\n`);
  }
  if (!bootstrap.created && bootstrap.ignored) process.stderr.write(`vidgate: warning: ${bootstrap.ignored}\n`);
  if (app.pricesIgnored) process.stderr.write(`vidgate: warning: ${app.pricesIgnored}\n`);
  await startOrExit(settings, 'listen', async () => {
    try {
      await app.http.listen({ port: settings.port, host: settings.host });
    } catch (error) {
      await app.close(); // hand back what the worker claimed before saying why
      throw error;
    }
  });
  const role = options.worker ? `with a worker (${settings.worker_concurrency} at a time)` : 'without a worker';
  process.stdout.write(`vidgate listening on ${settings.public_url} ${role} (data in ${settings.data_dir})\n`);
  closeOnSignals(app);
}

/** `worker`: runs jobs from the store until stopped; no API. */
export async function workerCommand(): Promise<void> {
  const settings = settingsOrExit();
  const app = await startOrExit(settings, 'store', () => createApp({ settings, worker: true }));
  // Its id is the jobs' lease_owner: which process holds which job.
  process.stdout.write(`vidgate worker running ${settings.worker_concurrency} at a time as ${app.worker!.id} (data in ${settings.data_dir})\n`);
  closeOnSignals(app);
}

/** SIGTERM/SIGINT: stop claiming, let running jobs finish or hand them back, close, exit. */
function closeOnSignals(app: App): void {
  const stop = async (signal: string) => {
    app.logger.info({ signal, running: app.worker?.busy ?? 0 }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
