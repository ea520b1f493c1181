import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Worker as ThreadWorker } from 'node:worker_threads';
import type Tesseract from 'tesseract.js';
import type { Data, InferenceParams, Region } from '../../core/wire.js';
import type { ModelSpec } from '../spec.js';
import { imageOf } from '../models/inputs.js';
import type { DecodedImage, LoadedModel, Runtime } from '../types.js';
import { packageDir } from './package-dir.js';

const require = createRequire(import.meta.url);

/**
 * Tesseract 5's LSTM recogniser through tesseract.js 7 (`runtime: {kind: tesseract, lang: eng}`),
 * which runs its WebAssembly build in a worker thread of its own, inside our engine worker. The
 * language data is read from the @tesseract.js-data package (never the CDN tesseract.js would
 * otherwise fetch from), and nothing is cached to disk.
 */
export class TesseractRuntime implements Runtime {
  async load(spec: ModelSpec): Promise<LoadedModel> {
    const lang = typeof spec.runtime.lang === 'string' ? spec.runtime.lang : 'eng';
    const langPath = path.join(packageDir(`@tesseract.js-data/${lang}`), '4.0.0_best_int');
    // tesseract.js never settles createWorker when language data fails to load: check it first.
    if (!existsSync(path.join(langPath, `${lang}.traineddata.gz`)))
      throw new Error(`tesseract: no ${lang}.traineddata.gz in ${langPath}`);
    const { createWorker, OEM } = (await import('tesseract.js')).default;
    const worker = await createWorker(lang, OEM.LSTM_ONLY, {
      // tesseract.js in Node loads its core with require('tesseract.js-core/...'); corePath is set
      // anyway so that no code path can reach for a URL.
      corePath: packageDir('tesseract.js-core'),
      langPath,
      gzip: true,
      cacheMethod: 'none',
      workerPath: quietWorkerScript() as unknown as string,
      logger: () => {},
      // Without a handler, a failed job is re-thrown from a message listener: an uncaught error
      // that would kill our engine worker. Failures still reject the job's own promise.
      errorHandler: () => {},
    });
    let stopped: ((error: Error) => void) | undefined;
    const unloaded = new Promise<never>((_, reject) => (stopped = reject));
    unloaded.catch(() => {});
    // A crash of tesseract's thread fails the jobs in flight instead of the whole engine worker.
    // (tesseract.js returns its thread as `worker`, though its typings leave it out.)
    (worker as unknown as { worker: ThreadWorker }).worker.on('error', (error: Error) =>
      stopped?.(new Error(`tesseract stopped: ${error.message}`)),
    );

    const recognise = async (image: DecodedImage, params: InferenceParams): Promise<Data> => {
      // A failed job rejects with a string (tesseract's message), not an Error.
      const job = worker.recognize(toPnm(image), {}, { text: true, blocks: true }).catch((error: unknown) => {
        throw error instanceof Error ? error : new Error(`tesseract: ${String(error)}`);
      });
      const { data } = await Promise.race([job, unloaded]);
      return toData(data, image, params.min_confidence as number);
    };
    return {
      // One job at a time runs in tesseract's thread; the rest wait in its message queue.
      predict: (batch, params) => Promise.all(batch.map((input) => recognise(imageOf(input), params))),
      bytes: TESSERACT_BYTES,
      unload: async () => {
        stopped?.(new Error('this tesseract model was unloaded'));
        stopped = undefined;
        await worker.terminate();
      },
    };
  }
}

/** The LSTM data (about 5 MB unpacked) plus Tesseract's wasm heap for a page-sized image. */
const TESSERACT_BYTES = 128 * 1024 * 1024;

/**
 * tesseract.js starts `new Worker(workerPath)` with no options, so its thread shares our stdout,
 * and its wasm build prints notes there ("Warning: Invalid resolution 0 dpi. Using 70 instead.").
 * This entry silences the console inside that thread only, then runs tesseract.js's own worker
 * script. A data: URL keeps it working both from the compiled output and from source.
 */
function quietWorkerScript(): URL {
  const script = require.resolve('tesseract.js/src/worker-script/node/index.js');
  const code = [
    "import { createRequire } from 'node:module';",
    "for (const level of ['log', 'info', 'warn', 'error', 'debug']) console[level] = () => {};",
    `createRequire(${JSON.stringify(script)})(${JSON.stringify(script)});`,
  ].join('\n');
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** Leptonica reads binary PPM: a short header and our packed RGB as it is, no encoding cost. */
function toPnm(image: DecodedImage): Buffer {
  return Buffer.concat([Buffer.from(`P6\n${image.width} ${image.height}\n255\n`), image.rgb]);
}

/**
 * The text of every line kept, one per line, and a region per line: its box as fractions of the
 * image, its text, and Tesseract's confidence (0-100 there, 0-1 here) as the region's value.
 */
function toData(page: Tesseract.Page, image: DecodedImage, minConfidence: number): Data {
  const lines = (page.blocks ?? [])
    .flatMap((block) => block.paragraphs.flatMap((paragraph) => paragraph.lines))
    .map((line) => ({ ...line, text: line.text.trim(), confidence: line.confidence / 100 }))
    .filter((line) => line.text !== '' && line.confidence >= minConfidence);
  const regions = lines.map((line): Region => {
    const bounding_box = {
      top_row: line.bbox.y0 / image.height,
      left_col: line.bbox.x0 / image.width,
      bottom_row: line.bbox.y1 / image.height,
      right_col: line.bbox.x1 / image.width,
    };
    return {
      id: regionId(line.bbox, line.text),
      region_info: { bounding_box },
      // core's Region types data as concepts only; Clarifai's region data is a full Data message.
      data: { text: { raw: line.text } } as Data as Region['data'],
      value: line.confidence,
    };
  });
  return { text: { raw: lines.map((line) => line.text).join('\n') }, regions };
}

/** Derived from what was read, so the same image gives the same region ids on every call. */
function regionId(box: Tesseract.Bbox, text: string): string {
  return createHash('sha256')
    .update(`${box.x0}:${box.y0}:${box.x1}:${box.y1}:${text}`)
    .digest('hex')
    .slice(0, 32);
}
