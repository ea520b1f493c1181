/**
 * The routes not generated from service.proto, described by hand: keep in step with
 * routes/observability.ts, routes/v2/sibyl.ts, routes/openai/ and routes/docs.ts.
 */

type Content = Record<string, { schema: Record<string, unknown> }>;

export interface HandRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI template; `{path}` and `{model}` may hold slashes (fastify's `*`). */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** Answers without a key (app.ts's PUBLIC_PATHS). */
  public?: boolean;
  paramDescriptions?: Record<string, string>;
  requestContent?: Content;
  responseContent?: Content;
  responseDescription?: string;
}

const JSON_OBJECT: Content = { 'application/json': { schema: { type: 'object' } } };
const V2_STATUS: Content = {
  'application/json': { schema: { type: 'object', properties: { status: { type: 'object' } } } },
};
const TEXT: Content = { 'text/plain': { schema: { type: 'string' } } };

const MESSAGES = {
  type: 'array',
  items: {
    type: 'object',
    required: ['role', 'content'],
    properties: {
      role: { type: 'string', enum: ['system', 'user', 'assistant', 'developer', 'tool'] },
      content: {
        description: 'text, or parts ({"type": "text"} and {"type": "image_url"})',
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }],
      },
    },
  },
};
const GENERATION = {
  max_tokens: { type: 'integer' },
  temperature: { type: 'number' },
  top_p: { type: 'number' },
  stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  stream: { type: 'boolean', description: 'server-sent events, ending with `data: [DONE]`' },
};
const MODEL = { type: 'string', description: 'user/app/model, or a model id of the key’s user' };
const AUDIO_FORM: Content = {
  'multipart/form-data': {
    schema: {
      type: 'object',
      required: ['file', 'model'],
      properties: {
        file: { type: 'string', contentMediaType: 'application/octet-stream' },
        model: MODEL,
        language: { type: 'string' },
        response_format: { type: 'string', enum: ['json', 'text', 'verbose_json', 'srt', 'vtt'] },
      },
    },
  },
};

const V1 = 'OpenAI-compatible (/v1)';
const SIBYL = 'Sibyl';
const SERVER = 'Server';

export const HAND_ROUTES: readonly HandRoute[] = [
  {
    method: 'GET',
    path: '/health',
    tag: SERVER,
    summary: 'Liveness',
    public: true,
    responseContent: V2_STATUS,
  },
  {
    method: 'GET',
    path: '/v2/healthz',
    tag: SERVER,
    summary: 'Liveness',
    public: true,
    responseContent: V2_STATUS,
  },
  {
    method: 'GET',
    path: '/ready',
    tag: SERVER,
    summary: 'Readiness',
    description:
      'Answers 503 until the store, the built-in models and the engine are ready, and while draining.',
    public: true,
    responseContent: V2_STATUS,
  },
  {
    method: 'GET',
    path: '/metrics',
    tag: SERVER,
    summary: 'Prometheus metrics',
    description: 'An admin key, unless the server runs with `--metrics-public`.',
    responseContent: TEXT,
  },
  {
    method: 'GET',
    path: '/openapi.json',
    tag: SERVER,
    summary: 'This document',
    public: true,
    responseContent: JSON_OBJECT,
  },
  {
    method: 'GET',
    path: '/docs',
    tag: SERVER,
    summary: 'The interactive API page',
    public: true,
    responseContent: { 'text/html': { schema: { type: 'string' } } },
  },

  {
    method: 'POST',
    path: '/v2/users',
    tag: SIBYL,
    summary: 'Create a user (admin)',
    requestContent: JSON_OBJECT,
    responseContent: JSON_OBJECT,
  },
  {
    method: 'GET',
    path: '/v2/sibyl/users/{user_id}/keys',
    tag: SIBYL,
    summary: 'List a user’s keys (ids, scopes, expiry; never the keys)',
    responseContent: JSON_OBJECT,
  },
  {
    method: 'GET',
    path: '/v2/sibyl/engine',
    tag: SIBYL,
    summary: 'Engine status: loaded models and runtimes',
    responseContent: JSON_OBJECT,
  },
  {
    method: 'POST',
    path: '/v2/users/{user_id}/apps/{app_id}/models/{model_id}/uploads',
    tag: SIBYL,
    summary: 'Start a model upload',
    requestContent: JSON_OBJECT,
    responseContent: JSON_OBJECT,
  },
  {
    method: 'PUT',
    path: '/v2/users/{user_id}/uploads/{upload_id}/files/{path}',
    tag: SIBYL,
    summary: 'Upload one file of a model (raw bytes)',
    paramDescriptions: { path: 'the file’s path in the model folder; may hold slashes' },
    requestContent: {
      'application/octet-stream': {
        schema: { type: 'string', contentMediaType: 'application/octet-stream' },
      },
    },
    responseContent: JSON_OBJECT,
  },
  {
    method: 'POST',
    path: '/v2/users/{user_id}/uploads/{upload_id}/commit',
    tag: SIBYL,
    summary: 'Commit a model upload',
    responseContent: JSON_OBJECT,
  },
  {
    method: 'DELETE',
    path: '/v2/users/{user_id}/uploads/{upload_id}',
    tag: SIBYL,
    summary: 'Cancel a model upload',
    responseContent: JSON_OBJECT,
  },

  { method: 'GET', path: '/v1/models', tag: V1, summary: 'List models', responseContent: JSON_OBJECT },
  {
    method: 'GET',
    path: '/v1/models/{model}',
    tag: V1,
    summary: 'Get a model',
    paramDescriptions: { model: 'user/app/model: may hold slashes' },
    responseContent: JSON_OBJECT,
  },
  {
    method: 'POST',
    path: '/v1/chat/completions',
    tag: V1,
    summary: 'Chat completion',
    requestContent: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['model', 'messages'],
          properties: { model: MODEL, messages: MESSAGES, ...GENERATION },
        },
      },
    },
    responseContent: { ...JSON_OBJECT, 'text/event-stream': { schema: { type: 'string' } } },
  },
  {
    method: 'POST',
    path: '/v1/completions',
    tag: V1,
    summary: 'Text completion',
    requestContent: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['model', 'prompt'],
          properties: {
            model: MODEL,
            prompt: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            ...GENERATION,
          },
        },
      },
    },
    responseContent: { ...JSON_OBJECT, 'text/event-stream': { schema: { type: 'string' } } },
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    tag: V1,
    summary: 'Embeddings',
    requestContent: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['model', 'input'],
          properties: {
            model: MODEL,
            input: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            encoding_format: { type: 'string', enum: ['float', 'base64'] },
          },
        },
      },
    },
    responseContent: JSON_OBJECT,
  },
  {
    method: 'POST',
    path: '/v1/audio/transcriptions',
    tag: V1,
    summary: 'Speech to text',
    requestContent: AUDIO_FORM,
    responseContent: JSON_OBJECT,
  },
  {
    method: 'POST',
    path: '/v1/audio/translations',
    tag: V1,
    summary: 'Speech to English text',
    requestContent: AUDIO_FORM,
    responseContent: JSON_OBJECT,
  },
];
