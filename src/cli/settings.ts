import { loadSettings, type Settings, SettingsError, unknownVariableWarnings } from '../config.ts';

/** The settings, or a one-line message naming the bad setting and exit code 2; unknown VIDGATE_ variables are warned about. */
export function settingsOrExit(): Settings {
  for (const warning of unknownVariableWarnings()) process.stderr.write(`vidgate: warning: ${warning}\n`);
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
