import { inputTypeOfModelType } from '../../../core/media-types.js';
import type { Input, InputType, MultiOutputResponse } from '../../../core/wire.js';
import { ApiError } from '../../../sdk/errors.js';
import { inputFromBytes, inputFromUrl } from '../../../sdk/inputs.js';
import { Model } from '../../../sdk/model.js';
import { openSession } from '../../connect.js';
import type { Session } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { DEFAULT_INPUT_APP, guessInputType, readLocalFile } from '../../inputs.js';
import { renderOutputs } from '../../render/outputs.js';
import { withProgress } from '../../render/progress.js';
import type { InputSourceOption, PredictFlags, PredictPlan } from './predict-options.js';
import { mergeFlags, planPredict, readPredictConfig } from './predict-options.js';

export interface PredictCommandOptions extends PredictFlags {
  output?: string;
}

export async function run(
  opts: PredictCommandOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const { output = 'text', config, ...flags } = opts;
  if (output !== 'text' && output !== 'json')
    throw new CliUsageError(`--output must be text or json; got "${output}"`);
  const plan = planPredict(config ? mergeFlags(await readPredictConfig(config), flags) : flags);
  // read a local file before starting anything heavy, so a typo fails fast
  const fileBytes = plan.source.kind === 'file_path' ? await readLocalFile(plan.source.value) : undefined;

  // model loading and inference take seconds on first use: show that something is happening
  const res = await withProgress(`Predicting with ${plan.ref.modelId}`, async () => {
    const session = await openSession(env);
    try {
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
        ...plan.runner,
        ...(session.userId ? { runnerUserId: session.userId } : {}),
      });
      const inputs = [await buildInput(plan, session, model, fileBytes)];
      return await model.predictResponse({
        inputs,
        inferenceParams: plan.params,
        outputConfig: plan.outputConfig,
      });
    } finally {
      await session.close();
    }
  });
  process.stdout.write(
    output === 'json'
      ? `${JSON.stringify(res, null, 2)}\n`
      : `${renderOutputs(res as MultiOutputResponse)}\n`,
  );
}

async function buildInput(
  plan: PredictPlan,
  session: Session,
  model: Model,
  fileBytes: Buffer | undefined,
): Promise<Input> {
  const src = plan.source;
  if (src.kind === 'input_id') {
    return { id: src.value, data: (await findInput(session, model, src.value, plan.ref.appId)).data };
  }
  const type = plan.inputType ?? (await modelInputType(model)) ?? guessInputType(sourceOf(src, fileBytes));
  if (src.kind === 'url') return inputFromUrl(src.value, type);
  // --bytes is sent literally: "\n" stays a backslash and an n, as in Clarifai's CLI
  return inputFromBytes(fileBytes ?? Buffer.from(src.value, 'utf8'), type);
}

/** Without --input_type, the model's own input type comes first. */
async function modelInputType(model: Model): Promise<InputType | undefined> {
  return inputTypeOfModelType((await model.loadInfo()).model_type_id);
}

function sourceOf(
  src: InputSourceOption,
  fileBytes: Buffer | undefined,
): Parameters<typeof guessInputType>[0] {
  if (fileBytes) return { fileBytes };
  return src.kind === 'url' ? { url: src.value } : { bytes: src.value };
}

/** --input_id names one of the caller's own inputs: in an app with the model's app id, else the default app. */
async function findInput(session: Session, model: Model, inputId: string, appId: string): Promise<Input> {
  const userId = session.userId ?? (await model.client.getMe()).user.id;
  const apps = [...new Set([appId, DEFAULT_INPUT_APP])];
  for (const app of apps) {
    try {
      return (await model.client.getInput(userId, app, inputId)).input;
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
    }
  }
  throw new CliUsageError(
    `no input "${inputId}" among your inputs (looked in app${apps.length > 1 ? 's' : ''} ${apps.join(' and ')} of user ${userId}); upload one with: clarifai input upload --file_path PATH --input_id ${inputId}`,
  );
}
