import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Command } from 'commander';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

// Every secret a setting can hold, each a distinct string that must never reach a help text.
const SECRETS: Record<string, string> = {
  VIDGATE_API_KEY: `sk-evo-help${'1'.repeat(36)}`,
  VIDGATE_BOOTSTRAP_KEY: `sk-evo-help${'2'.repeat(36)}`,
  VIDGATE_BOOTSTRAP_WEBHOOK_SECRET: 'whsec_helpsecretvalue3333',
  VIDGATE_METRICS_TOKEN: 'metrics-token-4444',
  VIDGATE_DATABASE_URL: 'postgres://vidgate:dbpassword5555@127.0.0.1:1/vidgate',
};

function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

describe('help never shows a secret', () => {
  it('no command or subcommand prints a configured key, secret, token or password in its --help', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, SECRETS);
    try {
      const { buildProgram } = await import('../src/cli/program.ts');
      const commands = everyCommand(buildProgram());
      assert.ok(commands.length >= 10, 'every command was walked');
      for (const command of commands) {
        const help = command.helpInformation();
        for (const [name, secret] of Object.entries(SECRETS)) assert.ok(!help.includes(secret), `${command.name()} --help shows ${name}`);
      }
    } finally {
      process.env = saved;
    }
  });

  it('a real `generate --help` names the variable, not its value', () => {
    const res = spawnSync(process.execPath, [MAIN, 'generate', '--help'], { env: { ...process.env, ...SECRETS }, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /--key <key> +API key \(env: VIDGATE_API_KEY\)/);
    assert.ok(!res.stdout.includes(SECRETS.VIDGATE_API_KEY));
  });
});
