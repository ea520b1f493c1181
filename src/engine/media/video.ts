import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LimitError, type InvalidArgumentError } from '../../core/errors.js';
import { sniffInputType } from '../../core/media-types.js';
import { StatusCode } from '../../core/status.js';
import type { DecodedImage } from '../types.js';
import { FFMPEG_INSTALL, findFfmpeg, mediaError, runFfmpeg } from './ffmpeg.js';

/** Clarifai's default gap between sampled frames (output_config.sample_ms). */
export const DEFAULT_SAMPLE_MS = 1000;
/** Longer videos are refused: 10 minutes, 600 frames at the default rate. */
export const MAX_VIDEO_SECONDS = 600;
/** Frames sampled from one video at most, whatever the rate (60 s at sample_ms 100). */
export const MAX_VIDEO_FRAMES = 600;
/** Encoded bytes accepted. */
export const MAX_VIDEO_BYTES = 512 * 1024 * 1024;
/** Decoded RGB of all of one video's frames (600 frames of 1024x576 is ~1 GiB). */
export const MAX_VIDEO_DECODED_BYTES = 1024 * 1024 * 1024;
/** Frames are shrunk to this longest side when the model names no image size. */
export const DEFAULT_VIDEO_MAX_SIDE = 1024;
/** ffmpeg decodes every frame (not only the sampled ones), so a long video gets longer than audio. */
export const VIDEO_TIMEOUT_MS = 120_000;
/** What ffmpeg may read a video as. Image sequences, playlists and concat lists (which name other files or URLs) are not here. */
const DEMUXERS = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,ogg,asf,mpeg';

export interface VideoDecodeOptions {
  /** Milliseconds between sampled frames (default 1000). */
  sampleMs?: number;
  /** Shrink frames so neither side exceeds this, keeping the aspect ratio (default 1024). */
  maxSide?: number;
  maxSeconds?: number;
  maxFrames?: number;
  maxBytes?: number;
  maxDecodedBytes?: number;
  timeoutMs?: number;
  /** Stops the decode (ffmpeg is killed). */
  signal?: AbortSignal;
  /** Where to look for ffmpeg (default: PATH); false says it is missing. */
  ffmpeg?: string | false;
}

/** One sampled frame: its place in the sampling, its time in the video (ms), and its pixels. */
export interface VideoFrame {
  index: number;
  time: number;
  image: DecodedImage;
}

/** The refusal for a video when ffmpeg is not installed (the engine says it before queueing too). */
export function videoNeedsFfmpeg(): InvalidArgumentError {
  return mediaError(`video needs ffmpeg: install it with \`${FFMPEG_INSTALL}\``);
}

/**
 * Samples a video's frames every `sampleMs` through ffmpeg: frame k is the one on screen at
 * k x sampleMs (ffmpeg's fps filter, rounding up: the last frame that started by then), shrunk to
 * `maxSide`, as packed RGB. The video goes through a temporary file, since MP4s written without
 * "faststart" keep their index at the end and cannot be read from a pipe. Limits: encoded bytes
 * before anything runs; duration and frame count as frames arrive (ffmpeg is told to stop one
 * frame past them); decoded bytes; a timeout; the caller's abort kills ffmpeg.
 */
export async function decodeVideo(bytes: Uint8Array, opts: VideoDecodeOptions = {}): Promise<VideoFrame[]> {
  const sampleMs = opts.sampleMs ?? DEFAULT_SAMPLE_MS;
  const maxSide = opts.maxSide ?? DEFAULT_VIDEO_MAX_SIDE;
  const maxSeconds = opts.maxSeconds ?? MAX_VIDEO_SECONDS;
  const maxFrames = opts.maxFrames ?? MAX_VIDEO_FRAMES;
  const maxBytes = opts.maxBytes ?? MAX_VIDEO_BYTES;
  const maxDecoded = opts.maxDecodedBytes ?? MAX_VIDEO_DECODED_BYTES;
  if (bytes.length === 0) throw mediaError('the video input is empty (0 bytes)');
  if (bytes.length > maxBytes) {
    throw new LimitError(
      StatusCode.REQUEST_TOO_LARGE,
      'Video too large',
      `video is ${bytes.length} bytes; the limit is ${maxBytes} bytes`,
    );
  }
  const sniffed = sniffInputType(bytes);
  if (sniffed === 'image' || sniffed === 'text') {
    throw mediaError(
      `the input is ${sniffed === 'image' ? 'an image' : 'text'}, not a video; send it as data.${sniffed} (or --input_type ${sniffed})`,
    );
  }
  const ffmpeg = findFfmpeg(opts.ffmpeg);
  if (!ffmpeg) throw videoNeedsFfmpeg();

  // frames at 0, S, 2S, ...: a video of exactly maxSeconds gives ceil(maxSeconds / S) of them
  const byDuration = Math.ceil((maxSeconds * 1000) / sampleMs);
  const allowed = Math.min(maxFrames, byDuration);
  const frames: VideoFrame[] = [];
  let decodedBytes = 0;
  const reader = new PpmReader((width, height) => {
    if (frames.length >= allowed) {
      return allowed < byDuration
        ? new LimitError(
            StatusCode.REQUEST_TOO_LARGE,
            'Video too long',
            `video gives more than ${maxFrames} frames at sample_ms ${sampleMs}; sample less often or send a shorter video`,
          )
        : new LimitError(
            StatusCode.REQUEST_TOO_LARGE,
            'Video too long',
            `video is longer than ${maxSeconds} s; the limit is ${maxSeconds} s${maxSeconds % 60 === 0 ? ` (${maxSeconds / 60} minutes)` : ''}`,
          );
    }
    decodedBytes += width * height * 3;
    if (decodedBytes > maxDecoded) {
      return new LimitError(
        StatusCode.REQUEST_TOO_LARGE,
        'Video too large',
        `video frames decode to more than ${maxDecoded} bytes; sample less often or send a shorter video`,
      );
    }
    return undefined;
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sibyl-video-'));
  try {
    const file = path.join(dir, 'input');
    await writeFile(file, bytes, { mode: 0o600 });
    const fit = `scale=w='min(iw,${maxSide})':h='min(ih,${maxSide})':force_original_aspect_ratio=decrease`;
    await runFfmpeg({
      command: ffmpeg,
      // prettier-ignore
      args: [
        '-format_whitelist', DEMUXERS, '-i', `file:${file}`,
        '-map', '0:v:0', '-an', '-sn', '-dn',
        '-vf', `fps=1000/${sampleMs}:round=up,${fit}`,
        '-frames:v', String(allowed + 1),
        '-pix_fmt', 'rgb24', '-c:v', 'ppm', '-f', 'image2pipe', 'pipe:1',
      ],
      what: 'video',
      timeoutMs: opts.timeoutMs ?? VIDEO_TIMEOUT_MS,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onOutput: (chunk) =>
        reader.push(chunk, (image) => {
          frames.push({ index: frames.length, time: frames.length * sampleMs, image });
        }),
    });
  } catch (error) {
    throw explain(error);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (reader.pending()) throw mediaError('ffmpeg stopped in the middle of a frame of this video');
  if (frames.length === 0) throw mediaError('ffmpeg found no video frames in this input');
  return frames;
}

/** ffmpeg's own words for the common cases, turned into what the caller did. */
function explain(error: unknown): unknown {
  const text = error instanceof Error ? error.message : '';
  if (/matches no streams/.test(text)) return mediaError('this file has no video stream (audio only?)');
  if (/Format not on whitelist|Invalid data found/.test(text)) {
    return mediaError(
      'the input is not a video ffmpeg can read here (MP4, MOV, WebM, MKV, AVI, MPEG-TS, FLV, Ogg, ASF, MPEG-PS)',
    );
  }
  return error;
}

/**
 * Reads a stream of binary PPMs (ffmpeg's `-c:v ppm -f image2pipe`): each frame says its own size,
 * so no second program is needed to learn the video's dimensions. Frame pixels are copied once,
 * into a buffer of the frame's size.
 */
class PpmReader {
  private head: Buffer = Buffer.alloc(0);
  private frame: { width: number; height: number; rgb: Uint8Array; filled: number } | undefined;

  /** `admit` sees each frame's size before its pixels are held and may refuse it. */
  constructor(private readonly admit: (width: number, height: number) => Error | undefined) {}

  push(chunk: Buffer, onFrame: (image: DecodedImage) => void): Error | undefined {
    let rest = chunk;
    while (rest.length > 0) {
      if (!this.frame) {
        this.head = this.head.length > 0 ? Buffer.concat([this.head, rest]) : rest;
        const match = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(this.head.toString('latin1', 0, 64));
        if (!match) {
          if (this.head.length >= 64) return new Error('ffmpeg wrote something other than PPM frames');
          return undefined;
        }
        const width = Number(match[1]);
        const height = Number(match[2]);
        const refused = this.admit(width, height);
        if (refused) return refused;
        this.frame = { width, height, rgb: new Uint8Array(width * height * 3), filled: 0 };
        rest = this.head.subarray(match[0].length);
        this.head = Buffer.alloc(0);
      }
      const f = this.frame;
      const n = Math.min(rest.length, f.rgb.length - f.filled);
      f.rgb.set(rest.subarray(0, n), f.filled);
      f.filled += n;
      rest = rest.subarray(n);
      if (f.filled === f.rgb.length) {
        onFrame({ width: f.width, height: f.height, rgb: f.rgb });
        this.frame = undefined;
      }
    }
    return undefined;
  }

  /** Whether a frame was begun and not finished. */
  pending(): boolean {
    return this.frame !== undefined || this.head.length > 0;
  }
}
