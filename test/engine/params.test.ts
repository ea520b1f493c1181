import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { validateParams } from '../../src/engine/params.js';
import type { ModelSpec } from '../../src/engine/spec.js';

const def: Pick<ModelSpec, 'id' | 'params'> = {
  id: 'demo',
  params: {
    max_detections: { type: 'integer', description: 'n', default: 100, min: 1, max: 100 },
    iou_threshold: { type: 'number', description: 'iou', default: 0.5, min: 0, max: 1 },
    task: { type: 'string', description: 'task', enum: ['fast', 'slow'] },
    verbose: { type: 'boolean', description: 'v' },
    prompt: { type: 'string', description: 'p' },
  },
};

function rejects(params: unknown, pattern: RegExp, target = def): void {
  assert.throws(
    () => validateParams(target, params),
    (error: unknown) =>
      error instanceof SibylError &&
      error.code === StatusCode.MODEL_INVALID_ARGUMENT &&
      pattern.test(error.message),
  );
}

describe('validateParams', () => {
  it('fills defaults', () => {
    assert.deepEqual(validateParams(def, undefined), { max_detections: 100, iou_threshold: 0.5 });
    assert.deepEqual(validateParams(def, { max_detections: 3, task: 'fast', verbose: true, prompt: 'x' }), {
      max_detections: 3,
      iou_threshold: 0.5,
      task: 'fast',
      verbose: true,
      prompt: 'x',
    });
  });

  it('treats null as the default', () => {
    assert.deepEqual(validateParams(def, { iou_threshold: null }), {
      max_detections: 100,
      iou_threshold: 0.5,
    });
  });

  it('refuses unknown names, listing the allowed ones', () => {
    rejects(
      { max_detection: 3 },
      /model demo has no inference param "max_detection"; allowed: max_detections, iou_threshold, task, verbose, prompt/,
    );
  });

  it('says when a model takes no params', () => {
    rejects({ temperature: 0.7 }, /model plain takes no inference params, got "temperature"/, {
      id: 'plain',
      params: {},
    });
  });

  it('names the param and its allowed type and range', () => {
    rejects({ max_detections: 0 }, /"max_detections" must be an integer from 1 to 100, got 0/);
    rejects({ max_detections: 2.5 }, /"max_detections" must be an integer from 1 to 100, got 2.5/);
    rejects({ iou_threshold: '0.5' }, /"iou_threshold" must be a number from 0 to 1, got "0.5"/);
    rejects({ task: 'medium' }, /"task" must be one of "fast", "slow", got "medium"/);
    rejects({ verbose: 1 }, /"verbose" must be true or false, got 1/);
    rejects({ prompt: 3 }, /"prompt" must be a string, got 3/);
  });

  it('refuses params that are not an object', () => {
    rejects([], /inference params must be a JSON object, got an array/);
    rejects('x', /inference params must be a JSON object, got string "x"/);
  });
});
