import { type Command, InvalidArgumentError, Option } from 'commander';
import { VidgateApiError, VidgateClient, VidgateTaskError } from '../sdk/index.ts';

/** Options of the commands that talk to a running vidgate over HTTP. */
export type RemoteOptions = { baseUrl: string; key?: string; json?: boolean };

/** Adds --base-url, --key and --json to a command. */
export function withRemoteOptions(command: Command): Command {
  return command
    .addOption(new Option('--base-url <url>', 'the vidgate to talk to').env('VIDGATE_BASE_URL').default(`http://127.0.0.1:${process.env.VIDGATE_PORT || 8080}`))
    // Read from the environment when the command runs: help names the variable, never its value (a secret).
    .addOption(new Option('--key <key>', 'API key').env('VIDGATE_API_KEY'))
    .option('--json', 'print JSON on stdout, and nothing else');
}

export function clientFor(options: RemoteOptions): VidgateClient {
  if (!options.key) throw new InvalidArgumentError('no API key: pass --key or set VIDGATE_API_KEY');
  return new VidgateClient({ baseUrl: options.baseUrl, apiKey: options.key });
}

/**
 * Runs a remote command: API and task errors print one line (`vidgate: <code>: <message>`) and
 * exit 1; a vidgate that cannot be reached says where it looked.
 */
export async function runRemote(options: RemoteOptions, work: (client: VidgateClient) => Promise<void>): Promise<void> {
  try {
    await work(clientFor(options));
  } catch (error) {
    process.exitCode = error instanceof InvalidArgumentError ? 2 : 1;
    process.stderr.write(`vidgate: ${describe(error, options.baseUrl)}\n`);
  }
}

function describe(error: unknown, baseUrl: string): string {
  if (error instanceof VidgateApiError || error instanceof VidgateTaskError) return `${error.code}: ${error.message}`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  // fetch fails with a bare "fetch failed"; the reason is in its cause.
  if (error instanceof TypeError && cause) return `cannot reach vidgate at ${baseUrl}: ${cause.code ?? cause.message}; is it running? (bin/vidgate serve)`;
  return (error as Error).message;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
