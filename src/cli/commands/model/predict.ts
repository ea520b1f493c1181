import { isGenerative } from '../../../core/model-types.js';
import type { MultiOutputResponse, Output } from '../../../core/wire.js';
import { collectItems, processStdin } from '../../batch/sources.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { formatOption } from '../../output-format.js';
import { renderOutputs } from '../../render/outputs.js';
import { withProgress } from '../../render/progress.js';
import { withModelSuggestions } from '../../suggest.js';
import type { BatchFlags } from './predict-batch.js';
import { predictMany } from './predict-batch.js';
import type { PredictFlags } from './predict-options.js';
import { mergeFlags, planPredict, readPredictConfig } from './predict-options.js';
import { buildInput, openModel } from './predict-model.js';

export interface PredictCommandOptions extends PredictFlags, BatchFlags {
  output?: string;
  /** Clarifai's current CLI: --file and --model-url. */
  file?: string[];
  modelUrl?: string;
}

export async function run(
  words: string[],
  opts: PredictCommandOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const { output, config, output_file, resume, annotate, concurrency, batch_size, file, modelUrl, ...given } =
    opts;
  const flags: PredictFlags = { ...given };
  if (file) flags.file_path = [...((given.file_path as string[] | undefined) ?? []), ...file];
  if (modelUrl !== undefined) {
    if (given.model_url !== undefined) throw new CliUsageError('give --model_url or --model-url, not both');
    flags.model_url = modelUrl;
  }
  const batch: BatchFlags = { output_file, resume, annotate, concurrency, batch_size };
  const format = formatOption(
    output ?? (resume || output_file?.endsWith('.jsonl') ? 'jsonl' : undefined),
    ['text', 'json', 'jsonl'],
    'text',
  );
  const plan = planPredict(config ? mergeFlags(await readPredictConfig(config), flags) : flags, words);
  // files are found (and folders listed) before anything heavy starts, so a typo fails fast
  const items = await collectItems(plan.sources, plan.words, plan.inputList, processStdin);
  // the documented one-input forms print exactly as they always have; anything more is a run
  const many =
    items.length > 1 ||
    items.some((i) => i.kind === 'file' && i.listed) ||
    format === 'jsonl' ||
    output_file !== undefined ||
    resume !== undefined ||
    annotate !== undefined;
  if (many) {
    await predictMany(items, plan, format, batch, env);
    return;
  }
  const item = items[0]!;
  // generated text is printed as it comes to a person at a terminal; piped or as JSON, it is whole
  const live = format === 'text' && process.stdout.isTTY === true;
  // model loading and inference take seconds on first use: show that something is happening
  const res = await withProgress(`Predicting with ${plan.ref.modelId}`, (stopProgress) =>
    withSession(
      env,
      async (session) => {
        const ctx = await openModel(session, plan, env, { modelType: live });
        const input = await buildInput(ctx, item);
        const request = { inputs: [input], inferenceParams: plan.params, outputConfig: plan.outputConfig };
        try {
          if (live && isGenerative(ctx.modelTypeId)) {
            await printGeneration(ctx.model.generate(request), stopProgress);
            return undefined;
          }
          return await ctx.model.predictResponse(request);
        } catch (err) {
          throw await withModelSuggestions(err, ctx.model.client, plan.ref);
        }
      },
      { preload: plan.ref },
    ),
  );
  if (!res) return;
  process.stdout.write(
    format === 'json'
      ? `${JSON.stringify(res, null, 2)}\n`
      : `${renderOutputs(res as MultiOutputResponse)}\n`,
  );
}

/** Writes each piece of generated text as it arrives; the spinner goes at the first one. */
async function printGeneration(messages: AsyncIterable<Output[]>, stopProgress: () => void): Promise<void> {
  let started = false;
  let ended = true;
  for await (const outputs of messages) {
    const text = outputs[0]?.data.text?.raw ?? '';
    if (!text) continue;
    if (!started) stopProgress();
    started = true;
    process.stdout.write(text);
    ended = text.endsWith('\n');
  }
  if (!started) stopProgress();
  if (!ended) process.stdout.write('\n');
}
