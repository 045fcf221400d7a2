import { loadSettings, type Settings, SettingsError } from '../config.ts';

/** The settings, or a one-line message naming the bad setting and exit code 2. */
export function settingsOrExit(): Settings {
  try {
    return loadSettings();
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`vidgate: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
