import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { commandOnPath } from '../../src/engine/requirements.js';
import { PHOTOS } from './cli.js';

/** Whether ffmpeg is installed; video tests skip without it, except in CI (which installs it). */
export const FFMPEG = commandOnPath('ffmpeg');
export const NO_FFMPEG = 'ffmpeg is not installed (apt-get install ffmpeg): the video tests are skipped';
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** The stills in order, one second each, and the concept general-image-recognition finds first on each. */
export const STILLS = [
  ['dogs.jpg', 'dog'],
  ['chelsea.png', 'cat'],
  ['coffee.png', 'cup'],
] as const;

/**
 * A 3 s video of the stills, each letterboxed into 640x480 at 10 frames a second: H.264 in MP4
 * (its index at the end, as ffmpeg writes it by default, so it cannot be read from a pipe) and VP8
 * in WebM. About half a second of ffmpeg.
 */
export function makeStillsVideo(dir: string): { mp4: string; webm: string } {
  const mp4 = join(dir, 'stills.mp4');
  const webm = join(dir, 'stills.webm');
  const inputs = STILLS.flatMap(([name]) => ['-loop', '1', '-t', '1', '-i', join(PHOTOS, name)]);
  const fit = (i: number) =>
    `[${i}]scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10[v${i}]`;
  const graph = `${STILLS.map((_, i) => fit(i)).join(';')};[v0][v1][v2]concat=n=3:v=1[v]`;
  const ffmpeg = (args: string[]) =>
    execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args]);
  // prettier-ignore
  ffmpeg([...inputs, '-filter_complex', graph, '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', mp4]);
  // prettier-ignore
  ffmpeg(['-i', mp4, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '500k', webm]);
  return { mp4, webm };
}
