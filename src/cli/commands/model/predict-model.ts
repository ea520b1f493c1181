import { inputTypeFromName, inputTypeOfModelType } from '../../../core/media-types.js';
import type { Data, Input, InputType } from '../../../core/wire.js';
import { ApiError } from '../../../sdk/errors.js';
import { inputFromBytes, inputFromUrl, readInputFile } from '../../../sdk/inputs.js';
import { Model } from '../../../sdk/model.js';
import type { InputItem } from '../../batch/items.js';
import type { Session } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { DEFAULT_INPUT_APP, guessInputType } from '../../inputs.js';
import { appsHolding, myApps } from '../../my-inputs.js';
import { withModelSuggestions } from '../../suggest.js';
import type { ModelFacts } from './model-facts.js';
import { modelFacts } from './model-facts.js';
import { resolveNamed } from './predict-named.js';
import type { PredictPlan } from './predict-options.js';

/** What every input of a run shares: the session, the model, and the input type to send. */
export interface PredictContext {
  session: Session;
  model: Model;
  plan: PredictPlan;
  /** --input_type, else the model's own input type; undefined: guessed per input. */
  inputType: InputType | undefined;
  /** The model's type, when it was looked up (it is when no --input_type was given, or asked for). */
  modelTypeId?: string;
  /** Its methods, inputs and params, when it was looked up. */
  facts?: ModelFacts;
  /** The input -i/--inputs named (a prompt, an image...), when they named one. */
  namedData?: Data;
}

/**
 * The model a run predicts with, looked up once: its input type decides how files and words are
 * sent. An unknown model is answered with the nearest names.
 */
export async function openModel(
  session: Session,
  plan: PredictPlan,
  env: Readonly<Record<string, string | undefined>>,
  opts: { modelType?: boolean } = {},
): Promise<PredictContext> {
  const model = new Model({
    modelId: plan.ref.modelId,
    ...(plan.ref.versionId ? { modelVersion: { id: plan.ref.versionId } } : {}),
    authConfig: {
      userId: plan.ref.userId,
      appId: plan.ref.appId,
      ...(session.pat ? { pat: session.pat } : {}),
    },
    transport: session.transport,
    env,
    ...(session.userId ? { runnerUserId: session.userId } : {}),
    ...plan.runner,
  });
  let inputType = plan.inputType;
  if (inputType !== undefined && !opts.modelType && !plan.named && !plan.method)
    return { session, model, plan, inputType };
  let info;
  try {
    info = await model.loadInfo();
  } catch (err) {
    throw await withModelSuggestions(err, model.client, plan.ref);
  }
  const modelTypeId = info.model_type_id;
  inputType ??= inputTypeOfModelType(modelTypeId);
  const facts = modelFacts(info);
  const ctx: PredictContext = {
    session,
    model,
    plan,
    inputType,
    facts,
    ...(modelTypeId ? { modelTypeId } : {}),
  };
  if (plan.named) {
    // -i/--inputs params join --inference_params (and win, as Clarifai's -i wins over --inputs)
    const named = await resolveNamed(plan.named, facts);
    ctx.plan = { ...plan, params: { ...plan.params, ...named.params } };
    if (named.data) ctx.namedData = named.data;
  }
  return ctx;
}

/** One item as a v2 input; local files are read here, on the client. */
export async function buildInput(ctx: PredictContext, item: InputItem): Promise<Input> {
  const id = item.id;
  switch (item.kind) {
    case 'input':
      return item.input;
    case 'input_id': {
      const found = await findInput(ctx.session, ctx.model, item.inputId, ctx.plan.ref.appId);
      return { id: item.inputId, data: found.data };
    }
    case 'url':
      return inputFromUrl(item.url, ctx.inputType ?? guessInputType({ url: item.url }), id);
    case 'text':
      // --bytes is sent literally: "\n" stays a backslash and an n, as in Clarifai's CLI
      return inputFromBytes(Buffer.from(item.text, 'utf8'), ctx.inputType ?? 'text', id);
    case 'word':
      if (looksLikePath(item.word)) {
        throw new CliUsageError(
          `cannot read ${item.word}: no such file (to send those letters as text, use --bytes ${JSON.stringify(item.word)})`,
        );
      }
      if ((ctx.inputType ?? 'text') !== 'text') {
        throw new CliUsageError(
          `cannot read ${item.word}: no such file (and model ${ctx.plan.ref.modelId} takes ${ctx.inputType} inputs, so it is not text either)`,
        );
      }
      return inputFromBytes(Buffer.from(item.word, 'utf8'), 'text', id);
    case 'bytes':
      return inputFromBytes(item.bytes, ctx.inputType ?? guessInputType({ fileBytes: item.bytes }), id);
    case 'file': {
      const bytes = await readInputFile(item.path, '--file_path');
      return inputFromBytes(bytes, ctx.inputType ?? guessInputType({ fileBytes: bytes }), id);
    }
  }
}

/** A single word with a folder or a file extension in it was meant as a file, not as text. */
function looksLikePath(word: string): boolean {
  return !/\s/.test(word) && (word.includes('/') || /\.[A-Za-z][A-Za-z0-9]{0,4}$/.test(word));
}

/** Files from folders and globs that the model cannot take are left out (a README among photos). */
export function fitsModel(item: InputItem, inputType: InputType | undefined): boolean {
  if (item.kind !== 'file' || !item.listed) return true;
  const byName = inputTypeFromName(item.path);
  return inputType === undefined ? byName !== undefined : byName === inputType;
}

/**
 * --input_id names one of the caller's own inputs: in the app with the model's app id, else the
 * default app, else whichever of the caller's apps holds it (one uploaded with --app_id myapp).
 */
async function findInput(session: Session, model: Model, inputId: string, appId: string): Promise<Input> {
  const userId = session.userId ?? (await model.client.getMe()).user.id;
  const first = [...new Set([appId, DEFAULT_INPUT_APP])];
  for (const app of first) {
    try {
      return (await model.client.getInput(userId, app, inputId)).input;
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
    }
  }
  const others = (await myApps(model.client, userId)).filter((a) => !first.includes(a));
  const found = await appsHolding(model.client, userId, others, inputId);
  if (found.length === 1) return found[0]!.input;
  if (found.length > 1)
    throw new CliUsageError(
      `input "${inputId}" is in several of your apps (${found.map((f) => f.appId).join(', ')}); predict with --model_url of a model whose app id names one, or re-upload it with a unique id`,
    );
  const looked = [...first, ...others];
  throw new CliUsageError(
    `no input "${inputId}" among your inputs (looked in app${looked.length > 1 ? 's' : ''} ${looked.join(', ')} of user ${userId}); upload one with: clarifai input upload --file_path PATH --input_id ${inputId}`,
  );
}
