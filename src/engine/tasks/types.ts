import type { Data, InferenceParams, InputType } from '../../core/wire.js';
import type { ConfigReader } from '../config-reader.js';
import type { ModelSpec } from '../spec.js';
import type { TensorModel } from '../tensors/tensor.js';
import type { DecodedInput, ParamSpec } from '../types.js';

/** What a task adapter is given to bind itself to one loaded network. */
export interface TaskContext {
  spec: ModelSpec;
  model: TensorModel;
  /** `runtime` of the spec (config.yaml's runtime block). */
  runtime: ConfigReader;
  /** The weights file as config.yaml names it, for messages. */
  file: string;
}

/**
 * Turns decoded inputs into tensors and outputs into v2 `data` for one `model_type_id`, whatever
 * runs the network (onnxruntime, tfjs, later a remote engine): one file per task, one line in
 * TASKS.
 */
export interface TaskAdapter {
  inputType: InputType;
  /** Inference params every model of this task takes; config.yaml `params:` may change defaults. */
  params: Readonly<Record<string, ParamSpec>>;
  /** The `runtime` keys this task reads, besides the runtime's own (kind, file). */
  settings: readonly string[];
  /**
   * Checks the network against the settings (input shape against preprocess, output width against
   * labels) and prepares what predicting needs, so mistakes surface at upload.
   */
  bind(ctx: TaskContext): Promise<BoundTask>;
}

export interface BoundTask {
  predict(batch: readonly DecodedInput[], params: InferenceParams): Promise<Data[]>;
  /** An input to try the network on at upload and to warm it up at load. */
  sample: DecodedInput;
  /** Facts learned while binding (concepts from labels, the image size), stored with the spec. */
  facts: Partial<Pick<ModelSpec, 'concepts' | 'imageSize'>>;
}
