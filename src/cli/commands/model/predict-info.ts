import { modelUrl } from '../../../core/urls.js';
import { withSession } from '../../connect.js';
import { table } from '../../render/table.js';
import type { ModelFacts } from './model-facts.js';
import { inputArgs } from './model-facts.js';
import { openModel } from './predict-model.js';
import type { PredictPlan } from './predict-options.js';

/**
 * `--info`: the model's methods and their signatures, as Clarifai's current CLI prints them
 * ("Model: id (user/app)", then "Methods:" with one `def ...` line each), followed by what a person
 * needs to call them here: the inference params with types, defaults and ranges. Nothing is
 * predicted, so no input is needed.
 */
export async function printInfo(
  plan: PredictPlan,
  format: 'text' | 'json' | 'jsonl',
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  // inputs are not read, as in Clarifai's CLI; the embedded engine need not load the model to describe it
  const { named: _named, method: _method, ...bare } = plan;
  const facts = await withSession(
    env,
    async (session) => (await openModel(session, bare, env, { modelType: true })).facts!,
  );
  process.stdout.write(format === 'text' ? describe(facts) : `${JSON.stringify(asJson(facts), null, 2)}\n`);
}

const METHOD_NOTES = {
  predict: 'the whole answer at once (PostModelOutputs)',
  generate: 'the answer streamed as it is generated (GenerateModelOutputs)',
};

function signature(facts: ModelFacts, method: 'predict' | 'generate'): string {
  // a param with no default shows `= None`: the model decides, as in Python
  const params = facts.params.map(
    (p) => `${p.name}: ${p.type} = ${p.default !== undefined ? py(p.default) : 'None'}`,
  );
  const out = method === 'generate' ? `Iterator[${facts.output}]` : facts.output;
  return `def ${method}(${[...inputArgs(facts), ...params].join(', ')}) -> ${out}:`;
}

/** A default as Python writes it, since the signatures are Clarifai's (Python) ones. */
function py(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

function describe(facts: ModelFacts): string {
  const m = facts.model;
  const owner = `${m.user_id ?? ''}/${m.app_id ?? ''}`;
  const version = m.model_version?.id;
  const lines = [
    `Model: ${m.id} (${owner})${version ? `, version ${version}` : ''}`,
    `URL: ${modelUrl({ userId: m.user_id ?? '', appId: m.app_id ?? '', modelId: m.id })}`,
    `Type: ${facts.typeId || 'unknown'}: takes ${facts.inputs.join(' and ') || 'any input'}, gives ${facts.output}`,
    '',
    'Methods:',
    ...facts.methods.flatMap((name) => [`  ${signature(facts, name)}`, `      ${METHOD_NOTES[name]}`]),
  ];
  if (facts.methods.includes('generate'))
    lines.push('  --chat [MESSAGE]', '      a conversation: each line from stdin is a turn, streamed back');
  lines.push('', 'Inference params (-i NAME=VALUE, --inputs JSON or --inference_params JSON):');
  if (facts.params.length === 0) lines.push('  none');
  else {
    const rows = facts.params.map((p) => [
      p.name,
      p.type,
      p.default !== undefined ? JSON.stringify(p.default) : '-',
      p.allowed ?? '',
      p.description ?? '',
    ]);
    lines.push(
      ...table(['name', 'type', 'default', 'allowed', 'description'], rows)
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (/concept|region/i.test(facts.output))
    lines.push(
      '',
      'Output config (--output_config JSON): max_concepts: int = 20, min_value: float = 0, select_concepts: list',
    );
  return `${lines.join('\n')}\n`;
}

function asJson(facts: ModelFacts): Record<string, unknown> {
  const m = facts.model;
  return {
    model: { id: m.id, user_id: m.user_id, app_id: m.app_id, version_id: m.model_version?.id },
    model_type_id: facts.typeId,
    inputs: facts.inputs,
    output: facts.output,
    methods: facts.methods.map((name) => ({ name, signature: signature(facts, name) })),
    params: facts.params,
  };
}
