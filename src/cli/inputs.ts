import { inputTypeFromName, sniffInputType } from '../core/media-types.js';
import type { InputType } from '../core/wire.js';
import { checkInputType, readInputFile } from '../sdk/inputs.js';
import { UsageError } from '../sdk/errors.js';

/** Where `clarifai input upload` stores inputs unless --app_id says otherwise. */
export const DEFAULT_INPUT_APP = 'default';

/** Reads --file_path here, on the client, before anything heavy starts. */
export function readLocalFile(path: string): Promise<Buffer> {
  return readInputFile(path, '--file_path');
}

/** --input_type, checked against the allowed types. */
export function inputTypeOption(value: string | undefined): InputType | undefined {
  if (value === undefined) return undefined;
  try {
    return checkInputType(value);
  } catch (err) {
    throw new UsageError(`--input_type ${(err as Error).message.replace(/^input type /, '')}`);
  }
}

/** What an input looks like without --input_type: --bytes is text, a file by its bytes, a URL by its name. */
export function guessInputType(source: { bytes?: string; fileBytes?: Uint8Array; url?: string }): InputType {
  const guess =
    source.bytes !== undefined
      ? 'text'
      : source.fileBytes
        ? sniffInputType(source.fileBytes)
        : source.url !== undefined
          ? inputTypeFromName(source.url)
          : undefined;
  if (!guess)
    throw new UsageError('cannot tell the input type: give --input_type text, image, video or audio');
  return guess;
}
