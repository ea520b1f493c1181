import type { Connection } from './config.js';

/** One sentence on where commands go now, for login, logout, whoami and the config commands. */
export function whereCommandsGo(conn: Connection): string {
  if (conn.kind === 'embedded') return `Commands now use the embedded engine (data in ${conn.dataDir}).`;
  if (conn.via === 'CLARIFAI_PAT')
    return `Commands still go to ${conn.base}: CLARIFAI_PAT is set in this shell (unset it to use the embedded engine).`;
  return `Commands now go to ${conn.base} (${conn.via}).`;
}
