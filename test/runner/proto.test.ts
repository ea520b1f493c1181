/**
 * The runner's bridge between v2 JSON and Clarifai's protobuf messages (src/runner/proto.ts), on
 * the installed protos: what a work item and an output hold survives the trip through bytes, and
 * the bytes are what the official generated classes (google-protobuf) read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import servicePb from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';
import { decode, encode } from '../../src/runner/proto.js';

describe('runner proto bridge', () => {
  it('a PostModelOutputsRequest keeps inline media, params (Struct), metadata and output_config', () => {
    const request = {
      user_app_id: { user_id: 'alice', app_id: 'photos' },
      model_id: 'colour-classifier',
      inputs: [
        {
          id: 'in-1',
          data: {
            image: { base64: Buffer.from([0, 1, 2, 255]).toString('base64') },
            metadata: { tag: 'x', n: 2, nested: { list: [1, 'two', null, true] } },
          },
        },
        { data: { text: { raw: 'héllo' } } },
      ],
      model: {
        model_version: {
          output_info: {
            params: { temperature: 0.7, max_tokens: 64, stop: ['\n'] },
            output_config: { max_concepts: 3, min_value: 0.1 },
          },
        },
      },
    };
    assert.deepEqual(decode('PostModelOutputsRequest', encode('PostModelOutputsRequest', request)), request);
  });

  it('a MultiOutputResponse keeps statuses, timestamps and 32-bit floats as written', () => {
    const response = {
      status: { code: 10000, description: 'Ok', req_id: 'r1' },
      outputs: [
        {
          id: 'o1',
          status: { code: 10000, description: 'Ok' },
          created_at: '2026-12-01T06:00:00.123Z',
          model: { id: 'm', app_id: 'main', model_version: { id: 'v1' } },
          data: {
            concepts: [{ id: 'dog', name: 'dog', value: 0.9, app_id: 'main' }],
            regions: [
              {
                region_info: {
                  bounding_box: { top_row: 0.1, left_col: 0.2, bottom_row: 0.5, right_col: 0.6 },
                },
              },
            ],
            embeddings: [{ vector: [0.25, -1.5], num_dimensions: 2 }],
          },
        },
      ],
    };
    assert.deepEqual(decode('MultiOutputResponse', encode('MultiOutputResponse', response)), response);
  });

  it('fields the proto does not define are left out; the generated classes read the bytes', () => {
    const message = {
      runner_item_id: 'item-1',
      runner_id: 'r',
      status: { code: 10000 },
      not_a_field: 'dropped',
      runner_item_outputs: [{ multi_output_response: { status: { code: 21200, details: 'no such model' } } }],
    };
    const bytes = encode('PostRunnerItemOutputsRequest', message);
    const { not_a_field: _dropped, ...rest } = message;
    assert.deepEqual(decode('PostRunnerItemOutputsRequest', bytes), rest);
    const generated = servicePb.PostRunnerItemOutputsRequest.deserializeBinary(bytes);
    assert.equal(generated.getRunnerItemId(), 'item-1');
    assert.equal(
      generated.getRunnerItemOutputsList()[0]!.getMultiOutputResponse()!.getStatus()!.getCode(),
      21200,
    );
  });
});
