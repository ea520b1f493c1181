import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTinyGguf } from './gguf.js';

export interface LlmFolderOptions {
  userId?: string;
  appId?: string;
  id?: string;
  /** Extra lines for config.yaml's `params:` block, e.g. `max_tokens: 16`. */
  params?: string[];
  contextLength?: number;
}

/** A model folder holding the tiny GGUF (test/helpers/gguf.ts) as a text-to-text model on llama-cpp. */
export async function ggufModelFolder(dir: string, opts: LlmFolderOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeTinyGguf(join(dir, 'model.gguf'), {
    ...(opts.contextLength !== undefined ? { contextLength: opts.contextLength } : {}),
  });
  const lines = [
    'model:',
    `  id: ${opts.id ?? 'tiny-llama'}`,
    `  user_id: ${opts.userId ?? 'meta'}`,
    `  app_id: ${opts.appId ?? 'Llama-2'}`,
    '  model_type_id: text-to-text',
    '  description: A tiny random-weight llama built by the tests.',
    '  visibility: public',
    'runtime:',
    '  kind: llama-cpp',
    '  file: model.gguf',
  ];
  if (opts.params?.length) lines.push('params:', ...opts.params.map((p) => `  ${p}`));
  await writeFile(join(dir, 'config.yaml'), `${lines.join('\n')}\n`);
  return dir;
}

/** A model folder that names a remote OpenAI-compatible engine's model (the `openai` runtime). */
export async function openAiModelFolder(
  dir: string,
  opts: {
    userId: string;
    appId: string;
    id: string;
    baseUrl: string;
    model: string;
    apiKeyEnv?: string;
    modelTypeId?: string;
  },
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const lines = [
    'model:',
    `  id: ${opts.id}`,
    `  user_id: ${opts.userId}`,
    `  app_id: ${opts.appId}`,
    `  model_type_id: ${opts.modelTypeId ?? 'text-to-text'}`,
    '  visibility: public',
    'runtime:',
    '  kind: openai',
    `  base_url: ${opts.baseUrl}`,
    `  model: ${JSON.stringify(opts.model)}`,
    ...(opts.apiKeyEnv ? [`  api_key_env: ${opts.apiKeyEnv}`] : []),
  ];
  await writeFile(join(dir, 'config.yaml'), `${lines.join('\n')}\n`);
  return dir;
}
