import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';

/**
 * Limits on the shape of a decoded request body, checked once before any service reads it (and
 * before any recursive code, such as the proto3 JSON decoder or a model's params handling, walks it):
 * a body nested 4,000 levels deep would otherwise overflow the stack somewhere downstream.
 */
export interface JsonLimits {
  /** Deepest nesting of objects and lists anywhere in a body. */
  maxDepth: number;
  /** Longest string inside `params`, `output_config` or `metadata` (free-form fields), in characters. */
  maxFreeFormString: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxFreeFormString: 256 * 1024 };

/** Keys whose values are free-form JSON handed to models or stored as given. */
const FREE_FORM = new Set(['params', 'output_config', 'outputConfig', 'metadata']);

function bad(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.CONN_BAD_REQUEST_FORMAT);
}

/**
 * Walks `body` without recursion and refuses: nesting deeper than `maxDepth`, numbers that are
 * not finite (`1e999` parses to Infinity), over-long strings in free-form fields, and the
 * prototype-poisoning keys `__proto__` / `constructor.prototype`.
 */
export function checkJsonLimits(body: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  // only parsed JSON is walked: a raw upload body arrives as a stream object, not data
  if (typeof body !== 'object' || body === null) return;
  const proto = Object.getPrototypeOf(body) as unknown;
  if (!Array.isArray(body) && proto !== Object.prototype && proto !== null) return;
  // each entry: a value, its depth, its path (built lazily: only errors need it) and whether it is free-form
  const stack: Array<{ v: unknown; depth: number; path: () => string; free: boolean }> = [
    { v: body, depth: 1, path: () => '', free: false },
  ];
  while (stack.length > 0) {
    const { v, depth, path, free } = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw bad(`${where(path)} is a number too large to represent`);
      continue;
    }
    if (typeof v === 'string') {
      if (free && v.length > limits.maxFreeFormString) {
        throw bad(
          `${where(path)} is ${v.length} characters long; strings in params, output_config and metadata may have at most ${limits.maxFreeFormString}`,
        );
      }
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limits.maxDepth) {
      throw bad(`the JSON body is nested more than ${limits.maxDepth} levels deep (at ${where(path)})`);
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        stack.push({ v: v[i], depth: depth + 1, path: () => `${path()}[${i}]`, free });
      }
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && isObjectWith(child, 'prototype'))) {
        throw bad(`${where(path)} has the forbidden key "${key}"`);
      }
      const childPath = () => {
        const parent = path();
        return parent === '' ? key : `${parent}.${key}`;
      };
      stack.push({ v: child, depth: depth + 1, path: childPath, free: free || FREE_FORM.has(key) });
    }
  }
}

function isObjectWith(v: unknown, key: string): boolean {
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, key);
}

/** A path for an error message, cut short: a deep path is itself the problem. */
function where(path: () => string): string {
  const p = path();
  if (p === '') return 'the body';
  return p.length > 120 ? `${p.slice(0, 120)}...` : p;
}
