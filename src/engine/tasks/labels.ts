import { readFile } from 'node:fs/promises';
import type { Concept } from '../../core/wire.js';
import { folderError } from '../config-reader.js';
import { conceptId } from '../models/coco-labels.js';
import { insideFolder } from '../folder-paths.js';
import type { TaskContext } from './types.js';

/**
 * Reads labels.txt: one label per line, in output order. Blank lines at the end are an editor's,
 * not labels; a blank line in the middle would shift every label after it, so it is refused.
 */
export async function readLabelsFile(path: string, name: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw folderError(`runtime.labels names ${name}, which cannot be read (${(error as Error).message})`);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  const blank = lines.findIndex((line) => line.trim() === '');
  if (blank >= 0) throw folderError(`${name} line ${blank + 1} is blank; each line must name one label`);
  if (lines.length === 0) throw folderError(`${name} is empty; it must list one label per line`);
  return lines.map((line) => line.trim());
}

/** The model's labels: from the stored spec, else from the folder's labels file. */
export async function labelsOf(ctx: TaskContext): Promise<string[]> {
  if (ctx.spec.concepts && ctx.spec.concepts.length > 0) return ctx.spec.concepts;
  const name = ctx.runtime.string('labels');
  if (name === undefined) {
    throw folderError(
      `config.yaml runtime.labels is missing; a ${ctx.spec.modelTypeId} needs a labels file (one label per line, in output order)`,
    );
  }
  return readLabelsFile(insideFolder(ctx.spec, name, 'runtime.labels'), name);
}

/** Output width against labels: the most common mistake when exporting a model. */
export function checkLabelCount(width: number, labels: readonly string[], what: string): void {
  if (width !== labels.length) {
    throw folderError(
      `${what} has ${width} values per input but runtime.labels lists ${labels.length} labels; they must match`,
    );
  }
}

export function toConcept(label: string, value: number, appId: string): Concept {
  return { id: conceptId(label), name: label, value, app_id: appId };
}
