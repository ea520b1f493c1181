import { folderError } from '../config-reader.js';
import { shapeText, type OutputTensor, type TensorInfo } from '../tensors/tensor.js';
import type { TaskContext } from './types.js';

/**
 * The input or output a setting names (`runtime.input: pixels`), else the model's only one, else
 * the first. Names in messages come with the list of real names, so a typo is easy to fix.
 */
export function pickTensor(
  ctx: TaskContext,
  which: 'input' | 'output',
  key: string,
  fallback: 'only' | 'first' = 'first',
): TensorInfo {
  const list = which === 'input' ? ctx.model.inputs : ctx.model.outputs;
  const name = ctx.runtime.string(key);
  if (name !== undefined) {
    const info = list.find((t) => t.name === name);
    if (!info)
      throw folderError(
        `config.yaml ${ctx.runtime.where(key)} names ${which} "${name}", but ${describeTensors(ctx, which)}`,
      );
    return info;
  }
  if (list.length === 0) throw folderError(`${ctx.file} has no ${which}s`);
  if (fallback === 'only' && list.length > 1) {
    throw folderError(`${describeTensors(ctx, which)}; say which one to use with ${ctx.runtime.where(key)}`);
  }
  return list[0]!;
}

export function describeTensors(ctx: TaskContext, which: 'input' | 'output'): string {
  const list = which === 'input' ? ctx.model.inputs : ctx.model.outputs;
  return `${ctx.file} has ${which}s ${list.map((t) => `"${t.name}" ${shapeText(t.shape)}`).join(', ')}`;
}

/** The values per input of a [batch, ...] output, when the model declares them all (else undefined). */
export function staticWidth(info: TensorInfo): number | undefined {
  if (info.shape.length < 2) return undefined;
  const dims = info.shape.slice(1);
  if (dims.some((d) => d === null)) return undefined;
  return dims.reduce<number>((n, d) => n * d!, 1);
}

export function outputNamed(outputs: Record<string, OutputTensor>, name: string): OutputTensor {
  const out = outputs[name];
  if (!out)
    throw new Error(
      `the model returned no output "${name}" (it returned ${Object.keys(outputs).join(', ')})`,
    );
  return out;
}
