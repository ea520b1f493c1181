import { randomBytes } from 'node:crypto';

/** A random 32-hex-character id, the shape Clarifai uses for inputs, outputs and request ids. */
export function newId(): string {
  return randomBytes(16).toString('hex');
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** User, app, model and input ids: letters, digits, `_`, `-`, `.`, at most 128 characters. */
export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}
