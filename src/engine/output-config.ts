import { editDistance } from '../core/edit-distance.js';
import type { Concept, Data, OutputConfig, Region } from '../core/wire.js';
import { conceptId } from './models/coco-labels.js';
import { describe, kindOf, modelArgumentError } from './params.js';
import type { ModelSpec } from './spec.js';

/** What Clarifai returns when max_concepts is absent or 0. */
export const DEFAULT_MAX_CONCEPTS = 20;

const ALLOWED_KEYS = ['max_concepts', 'min_value', 'select_concepts', 'sample_ms'] as const;

/** An output_config checked once per request and reduced to what filtering needs. */
export interface ResolvedOutputConfig {
  maxConcepts: number;
  minValue: number;
  /** Ids and names to keep; absent means keep every concept. */
  select?: ReadonlySet<string>;
  /** select_concepts as given, to name the entries that match nothing. */
  selectGiven?: readonly { field: 'id' | 'name'; value: string }[];
  sampleMs?: number;
}

/**
 * Validates an output_config from the wire (so typed loosely: JSON may carry anything). Unknown
 * keys are refused with the list of known ones, because a misspelt `max_concept` would otherwise
 * be ignored without a word. `null` values count as absent.
 */
export function resolveOutputConfig(cfg: unknown): ResolvedOutputConfig {
  if (cfg === undefined || cfg === null) return { maxConcepts: DEFAULT_MAX_CONCEPTS, minValue: 0 };
  if (typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw modelArgumentError(`output_config must be a JSON object, got ${kindOf(cfg)}`);
  }
  const fields = cfg as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(ALLOWED_KEYS as readonly string[]).includes(key)) {
      throw modelArgumentError(`output_config has no field "${key}"; allowed: ${ALLOWED_KEYS.join(', ')}`);
    }
  }
  const maxConcepts = checkNumber('max_concepts', fields.max_concepts, { type: 'integer', min: 0 });
  const minValue = checkNumber('min_value', fields.min_value, { type: 'number', min: 0, max: 1 });
  const sampleMs = checkSampleMs(fields.sample_ms);
  const resolved: ResolvedOutputConfig = {
    maxConcepts: maxConcepts || DEFAULT_MAX_CONCEPTS,
    minValue: minValue ?? 0,
  };
  const given = checkSelect(fields.select_concepts);
  if (given) {
    resolved.select = new Set(given.map((g) => g.value));
    resolved.selectGiven = given;
  }
  if (sampleMs) resolved.sampleMs = sampleMs;
  return resolved;
}

function checkNumber(
  field: string,
  value: unknown,
  spec: { type: 'integer' | 'number'; min?: number; max?: number },
): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (spec.type === 'number' || Number.isInteger(value)) &&
    (spec.min === undefined || value >= spec.min) &&
    (spec.max === undefined || value <= spec.max);
  if (!ok) {
    const allowed = describe({ ...spec, description: field });
    throw modelArgumentError(`output_config.${field} must be ${allowed}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Milliseconds between a video's sampled frames: at most ten a second, at least one a minute. 0
 * is proto3's "unset" (a gRPC client sends it without meaning to): the default, 1000.
 */
function checkSampleMs(value: unknown): number | undefined {
  const ms = checkNumber('sample_ms', value, { type: 'integer', min: 0, max: 60_000 });
  if (ms !== undefined && ms !== 0 && ms < 100) {
    throw modelArgumentError(
      `output_config.sample_ms must be from 100 to 60000 (or 0 for the default, 1000), got ${ms}`,
    );
  }
  return ms;
}

function checkSelect(value: unknown): { field: 'id' | 'name'; value: string }[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw modelArgumentError(
      `output_config.select_concepts must be a list of {"id"} or {"name"}, got ${kindOf(value)}`,
    );
  }
  const keys: { field: 'id' | 'name'; value: string }[] = [];
  value.forEach((item: unknown, i) => {
    const { id, name } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const given = (
      [
        ['id', id],
        ['name', name],
      ] as const
    ).filter((e): e is ['id' | 'name', string] => typeof e[1] === 'string' && e[1] !== '');
    if (given.length === 0) {
      throw modelArgumentError(`output_config.select_concepts[${i}] must have a non-empty "id" or "name"`);
    }
    for (const [field, v] of given) keys.push({ field, value: v });
  });
  return keys;
}

/**
 * Refuses select_concepts entries that name no concept of the model, as Clarifai does: a
 * misspelt or wrongly capitalised name would otherwise give an empty result and look like "nothing
 * found". Models without a fixed concept list (spec.concepts absent) accept any name.
 */
export function checkSelectedConcepts(
  resolved: ResolvedOutputConfig,
  spec: Pick<ModelSpec, 'userId' | 'appId' | 'id' | 'concepts'>,
): void {
  if (!resolved.selectGiven || !spec.concepts) return;
  const known = new Set(spec.concepts.flatMap((name) => [name, conceptId(name)]));
  const unknown = resolved.selectGiven.filter((g) => !known.has(g.value));
  if (unknown.length === 0) return;
  const listed = unknown.map((g) => {
    const near = nearestConcept(g.value, spec.concepts!);
    return `${g.field} "${g.value}"${near ? ` (did you mean "${near}"?)` : ''}`;
  });
  const shown = spec.concepts.slice(0, 12).join(', ');
  const more = spec.concepts.length > 12 ? `, ... (${spec.concepts.length} in all)` : '';
  throw modelArgumentError(
    `output_config.select_concepts: model ${spec.userId}/${spec.appId}/${spec.id} has no concept ${listed.join(', ')}; its concepts: ${shown}${more}`,
  );
}

/** The concept a typo most likely meant: same letters ignoring case, or at most two edits away. */
function nearestConcept(value: string, concepts: readonly string[]): string | undefined {
  const lower = value.toLowerCase().replace(/[-_]/g, ' ');
  let best: { name: string; d: number } | undefined;
  for (const name of concepts) {
    const d = editDistance(lower, name.toLowerCase());
    if (d <= Math.min(2, Math.floor(name.length / 3)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/**
 * Applies an output_config to one input's data: keeps only selected concepts (matched by id or
 * by name, so `{name: "traffic light"}` and `{id: "traffic-light"}` both work), drops those under
 * min_value, sorts best first and keeps max_concepts. The same rules apply to each region's
 * concepts, and a region left without any concept is dropped (one that never had any, such as a
 * line of text read, is kept). A video's frames get the same, frame by frame. The input is not modified.
 */
export function applyOutputConfig(data: Data, cfg: OutputConfig | undefined): Data {
  return applyResolvedOutputConfig(data, resolveOutputConfig(cfg));
}

/** As applyOutputConfig, with a config already resolved (the engine resolves once per request). */
export function applyResolvedOutputConfig(data: Data, resolved: ResolvedOutputConfig): Data {
  const out: Data = { ...data };
  if (data.concepts) out.concepts = filterConcepts(data.concepts, resolved);
  // a video's frames: the same rules for each frame's outputs
  if (data.frames)
    out.frames = data.frames.map((f) => ({ ...f, data: applyResolvedOutputConfig(f.data, resolved) }));
  if (data.regions) {
    out.regions = data.regions.flatMap((region): Region[] => {
      // A region that never had concepts (a line of read text, a face's embedding) is kept whole.
      const given = region.data.concepts as Concept[] | undefined;
      if (!given || given.length === 0) return [region];
      const concepts = filterConcepts(given, resolved);
      return concepts.length > 0 ? [{ ...region, data: { ...region.data, concepts } }] : [];
    });
  }
  return out;
}

function filterConcepts(concepts: readonly Concept[], cfg: ResolvedOutputConfig): Concept[] {
  return concepts
    .filter((c) => !cfg.select || cfg.select.has(c.id) || cfg.select.has(c.name))
    .filter((c) => c.value >= cfg.minValue)
    .sort((a, b) => b.value - a.value)
    .slice(0, cfg.maxConcepts);
}
