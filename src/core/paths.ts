import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** Sibyl's data directory: SIBYL_HOME, else $XDG_DATA_HOME/sibyl, else ~/.local/share/sibyl. */
export function defaultDataDir(env: Env): string {
  if (env.SIBYL_HOME) return env.SIBYL_HOME;
  const xdg = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(xdg, 'sibyl');
}

/** The config file Clarifai's own CLI uses: $XDG_CONFIG_HOME/clarifai/config, else ~/.config/clarifai/config. */
export function defaultConfigFile(env: Env): string {
  const xdg = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(xdg, 'clarifai', 'config');
}
