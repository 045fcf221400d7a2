import { createApp } from '../app.ts';
import { settingsOrExit } from './settings.ts';

export async function serveCommand(): Promise<void> {
  const settings = settingsOrExit();
  const app = await createApp({ settings });
  const { bootstrap } = app;
  if (bootstrap.created && bootstrap.generated) {
    process.stdout.write(
      `\nCreated the first API key (shown once, store it now):\n  ${bootstrap.key}\n` +
        `Its user's webhook signing secret:\n  ${bootstrap.webhookSecret}\n\n`,
    );
  }
  await app.http.listen({ port: settings.port, host: settings.host });
  process.stdout.write(`vidgate listening on ${settings.public_url} (data in ${settings.data_dir})\n`);
  const stop = async (signal: string) => {
    app.http.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
