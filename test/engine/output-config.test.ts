import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { Concept, Data, OutputConfig } from '../../src/core/wire.js';
import {
  DEFAULT_MAX_CONCEPTS,
  applyOutputConfig,
  checkSelectedConcepts,
  resolveOutputConfig,
} from '../../src/engine/output-config.js';

function concept(name: string, value: number): Concept {
  return { id: name.replace(/ /g, '-'), name, value, app_id: 'main' };
}

const box = { top_row: 0, left_col: 0, bottom_row: 1, right_col: 1 };
const sample: Data = {
  concepts: [
    concept('cup', 0.5),
    concept('dining table', 0.4),
    concept('traffic light', 0.9),
    concept('bowl', 0.1),
  ],
  regions: [
    { id: 'a', region_info: { bounding_box: box }, data: { concepts: [concept('cup', 0.5)] }, value: 0.5 },
    { id: 'b', region_info: { bounding_box: box }, data: { concepts: [concept('bowl', 0.1)] }, value: 0.1 },
  ],
};

function names(data: Data): string[] {
  return (data.concepts ?? []).map((c) => c.name);
}

function rejects(cfg: unknown, pattern: RegExp): void {
  assert.throws(
    () => resolveOutputConfig(cfg),
    (error: unknown) =>
      error instanceof SibylError &&
      error.code === StatusCode.MODEL_INVALID_ARGUMENT &&
      pattern.test(error.message),
  );
}

describe('applyOutputConfig', () => {
  it('sorts best first and keeps every concept by default', () => {
    const out = applyOutputConfig(sample, undefined);
    assert.deepEqual(names(out), ['traffic light', 'cup', 'dining table', 'bowl']);
    assert.equal(out.regions?.length, 2);
  });

  it('caps at 20 concepts when max_concepts is absent or 0', () => {
    const many: Data = { concepts: Array.from({ length: 30 }, (_, i) => concept(`c${i}`, i / 30)) };
    assert.equal(applyOutputConfig(many, {}).concepts?.length, DEFAULT_MAX_CONCEPTS);
    assert.equal(applyOutputConfig(many, { max_concepts: 0 }).concepts?.length, DEFAULT_MAX_CONCEPTS);
    assert.equal(applyOutputConfig(many, { max_concepts: 25 }).concepts?.length, 25);
  });

  it('keeps the top max_concepts', () => {
    assert.deepEqual(names(applyOutputConfig(sample, { max_concepts: 2 })), ['traffic light', 'cup']);
  });

  it('drops concepts under min_value, and regions left without a concept', () => {
    const out = applyOutputConfig(sample, { min_value: 0.45 });
    assert.deepEqual(names(out), ['traffic light', 'cup']);
    assert.deepEqual(
      out.regions?.map((r) => r.id),
      ['a'],
    );
  });

  it('selects concepts by name or by id', () => {
    assert.deepEqual(names(applyOutputConfig(sample, { select_concepts: [{ name: 'traffic light' }] })), [
      'traffic light',
    ]);
    assert.deepEqual(
      names(applyOutputConfig(sample, { select_concepts: [{ id: 'dining-table' }, { name: 'bowl' }] })),
      ['dining table', 'bowl'],
    );
    const regions = applyOutputConfig(sample, { select_concepts: [{ id: 'bowl' }] }).regions;
    assert.deepEqual(
      regions?.map((r) => r.id),
      ['b'],
    );
    assert.deepEqual(applyOutputConfig(sample, { select_concepts: [{ name: 'zebra' }] }).regions, []);
  });

  it('does not modify its input', () => {
    const copy = structuredClone(sample);
    applyOutputConfig(sample, { max_concepts: 1, min_value: 0.6 });
    assert.deepEqual(sample, copy);
  });

  it('leaves data without concepts alone', () => {
    assert.deepEqual(applyOutputConfig({ text: { raw: 'hi' } }, { max_concepts: 1 }), {
      text: { raw: 'hi' },
    });
  });
});

describe('resolveOutputConfig', () => {
  it('accepts nulls as absent and sample_ms', () => {
    const cfg = { max_concepts: null, min_value: null, sample_ms: 500 } as unknown as OutputConfig;
    assert.deepEqual(resolveOutputConfig(cfg), {
      maxConcepts: DEFAULT_MAX_CONCEPTS,
      minValue: 0,
      sampleMs: 500,
    });
  });

  it('refuses unknown keys, listing the allowed ones', () => {
    rejects({ max_concept: 3 }, /"max_concept".*max_concepts, min_value, select_concepts, sample_ms/);
  });

  it('refuses bad max_concepts naming the field and range', () => {
    rejects({ max_concepts: -1 }, /max_concepts must be an integer >= 0, got -1/);
    rejects({ max_concepts: 2.5 }, /max_concepts must be an integer >= 0/);
    rejects({ max_concepts: '3' }, /max_concepts must be an integer >= 0, got "3"/);
  });

  it('refuses min_value outside 0..1', () => {
    rejects({ min_value: 1.5 }, /min_value must be a number from 0 to 1, got 1.5/);
    rejects({ min_value: -0.1 }, /min_value must be a number from 0 to 1/);
  });

  it('refuses malformed select_concepts', () => {
    rejects({ select_concepts: 'dog' }, /select_concepts must be a list/);
    rejects(
      { select_concepts: [{ name: 'dog' }, { value: 1 }] },
      /select_concepts\[1\] must have a non-empty "id" or "name"/,
    );
  });

  it('refuses a config that is not an object', () => {
    rejects([1], /output_config must be a JSON object, got an array/);
  });
});

describe('checkSelectedConcepts', () => {
  const spec = { userId: 'clarifai', appId: 'main', id: 'm', concepts: ['dog', 'traffic light'] };

  it('accepts names and ids the model has, and any name when it has no concept list', () => {
    checkSelectedConcepts(resolveOutputConfig({ select_concepts: [{ name: 'traffic light' }] }), spec);
    checkSelectedConcepts(resolveOutputConfig({ select_concepts: [{ id: 'traffic-light' }] }), spec);
    checkSelectedConcepts(resolveOutputConfig({ select_concepts: [{ name: 'Dog' }] }), {
      ...spec,
      concepts: undefined,
    });
  });

  it('refuses, by name, entries that match nothing, with the nearest concept', () => {
    assert.throws(
      () =>
        checkSelectedConcepts(
          resolveOutputConfig({ select_concepts: [{ name: 'Dog' }, { id: 'dog' }, { id: 'zzz' }] }),
          spec,
        ),
      (error: unknown) =>
        error instanceof SibylError &&
        error.code === StatusCode.MODEL_INVALID_ARGUMENT &&
        /has no concept name "Dog" \(did you mean "dog"\?\), id "zzz"; its concepts: dog, traffic light$/.test(
          error.message,
        ),
    );
  });
});
