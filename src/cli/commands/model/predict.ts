import { isGenerative } from '../../../core/model-types.js';
import type { Input, MultiOutputResponse } from '../../../core/wire.js';
import type { InputItem } from '../../batch/items.js';
import { collectItems, processStdin } from '../../batch/sources.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { looksLikeModelRef } from '../../model-ref.js';
import { formatOption } from '../../output-format.js';
import { renderOutputs } from '../../render/outputs.js';
import { withProgress } from '../../render/progress.js';
import { withModelSuggestions } from '../../suggest.js';
import type { BatchFlags } from './predict-batch.js';
import { predictMany } from './predict-batch.js';
import type { PredictFlags } from './predict-options.js';
import { mergeFlags, planPredict, readPredictConfig } from './predict-options.js';
import { checkMethod } from './model-facts.js';
import { printGeneration, runChat } from './predict-chat.js';
import type { PredictContext } from './predict-model.js';
import { buildInput, openModel } from './predict-model.js';
import { mergeData, namesInput, withInputKeys } from './predict-named.js';

export interface PredictCommandOptions extends PredictFlags, BatchFlags {
  output?: string;
  /** Clarifai's current CLI: --file, --model-url and --deployment. */
  file?: string[];
  modelUrl?: string;
  deployment?: string;
  /** Clarifai's current CLI: print the methods, or chat (true: from stdin). */
  info?: boolean;
  chat?: boolean | string;
}

export async function run(
  words: string[],
  opts: PredictCommandOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const {
    output,
    config,
    output_file,
    resume,
    annotate,
    concurrency,
    batch_size,
    file,
    modelUrl,
    deployment,
    info,
    chat,
    ...given
  } = opts;
  const flags: PredictFlags = { ...given };
  if (file) flags.file_path = [...((given.file_path as string[] | undefined) ?? []), ...file];
  if (modelUrl !== undefined) {
    if (given.model_url !== undefined) throw new CliUsageError('give --model_url or --model-url, not both');
    flags.model_url = modelUrl;
  }
  if (deployment !== undefined) {
    if (given.deployment_id !== undefined)
      throw new CliUsageError('give --deployment_id or --deployment, not both');
    flags.deployment_id = deployment;
  }
  const batch: BatchFlags = { output_file, resume, annotate, concurrency, batch_size };
  const format = formatOption(
    output ?? (resume || output_file?.endsWith('.jsonl') ? 'jsonl' : undefined),
    ['text', 'json', 'jsonl'],
    'text',
  );
  // `--chat MODEL` (the flag before the model) took the model as its message: it meant a conversation
  const unnamed = flags.model_url === undefined && flags.model_id === undefined;
  const modelFirst = typeof chat === 'string' && words.length === 0 && unnamed && looksLikeModelRef(chat);
  const chatting = modelFirst ? true : chat;
  const args = modelFirst ? [chat] : words;
  const plan = planPredict(config ? mergeFlags(await readPredictConfig(config), flags) : flags, args);
  if (info) return (await import('./predict-info.js')).printInfo(plan, format, env);
  if (chatting !== undefined) {
    if (plan.sources.length > 0 || plan.words.length > 0 || plan.inputList !== undefined)
      throw new CliUsageError(
        '--chat reads its turns from MESSAGE (--chat "...") or stdin; give no other inputs',
      );
    if (plan.method !== undefined) throw new CliUsageError('--chat generates: give it without --method');
    return runChat(plan, typeof chatting === 'string' ? chatting : undefined, format, env);
  }
  // -i prompt=... (or image=...) is the input itself: stdin is then not read, as in Clarifai's CLI
  const named = namesInput(plan.named);
  const others = plan.sources.length > 0 || plan.words.length > 0 || plan.inputList !== undefined;
  // files are found (and folders listed) before anything heavy starts, so a typo fails fast
  const items =
    named && !others ? [] : await collectItems(plan.sources, plan.words, plan.inputList, processStdin);
  // the documented one-input forms print exactly as they always have; anything more is a run
  const many =
    items.length > 1 ||
    items.some((i) => i.kind === 'file' && i.listed) ||
    format === 'jsonl' ||
    output_file !== undefined ||
    resume !== undefined ||
    annotate !== undefined;
  if (many && named)
    throw new CliUsageError(
      '-i/--inputs name one input (its prompt, image...); with many inputs or -o jsonl/--output_file/--annotate give only params there',
    );
  if (many && plan.method === 'generate')
    throw new CliUsageError('--method generate streams the answer to one input; give one input');
  if (many) {
    await predictMany(items, plan, format, batch, env);
    return;
  }
  const item = items[0];
  // generated text is printed as it comes to a person at a terminal; piped or as JSON, it is whole
  const live = format === 'text' && process.stdout.isTTY === true;
  // model loading and inference take seconds on first use: show that something is happening
  const res = await withProgress(`Predicting with ${plan.ref.modelId}`, (stopProgress) =>
    withSession(
      env,
      async (session) => {
        const ctx = await openModel(session, plan, env, { modelType: live });
        const method = plan.method ? checkMethod(ctx.facts!, plan.method) : undefined;
        const input = await oneInput(ctx, item);
        const request = {
          inputs: [input],
          inferenceParams: ctx.plan.params,
          outputConfig: plan.outputConfig,
        };
        try {
          // --method generate streams even when piped; predict collects even at a terminal
          if (method === 'generate' || (method === undefined && live && isGenerative(ctx.modelTypeId))) {
            const mode = format === 'text' ? 'text' : 'messages';
            await printGeneration(ctx.model.generate(request), mode, stopProgress);
            return undefined;
          }
          return await ctx.model.predictResponse(request);
        } catch (err) {
          throw withInputKeys(
            await withModelSuggestions(err, ctx.model.client, plan.ref),
            plan.named,
            ctx.facts,
          );
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

/** The one input: from the flags or arguments, from -i/--inputs, or both joined (a file and its prompt). */
async function oneInput(ctx: PredictContext, item: InputItem | undefined): Promise<Input> {
  if (!item) return { data: ctx.namedData! };
  const input = await buildInput(ctx, item);
  return ctx.namedData ? { ...input, data: mergeData(input.data, ctx.namedData, item.source) } : input;
}
