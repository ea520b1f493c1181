import { folderError, type ConfigReader } from '../config-reader.js';
import type { Box, Scored } from '../networks/nms.js';
import { shapeText, type OutputTensor, type TensorInfo } from '../tensors/tensor.js';
import { describeTensors, outputNamed } from './io.js';
import type { TaskContext } from './types.js';

/**
 * The output layouts detectors are exported in:
 * - `boxes-scores-classes`: TF's object-detection API, separate outputs [1,N,4] boxes (ymin, xmin,
 *   ymax, xmax as fractions), [1,N] scores, [1,N] classes, already suppressed;
 * - `rows`: one [N,6] or [1,N,6] output of x1, y1, x2, y2 (input pixels), score, class, as models
 *   exported with NMS built in give;
 * - `yolo`: YOLOv5/v8 raw heads, [1, 4+C, anchors] (or [1, anchors, 4+C]) of cx, cy, w, h in input
 *   pixels then one score per class; we suppress overlaps ourselves.
 */
export const LAYOUTS = ['boxes-scores-classes', 'rows', 'yolo'] as const;
export type Layout = (typeof LAYOUTS)[number];
const BOX_FORMATS = ['xyxy', 'yxyx', 'cxcywh'] as const;
type BoxFormat = (typeof BOX_FORMATS)[number];
const DEFAULT_FORMAT: Record<Layout, BoxFormat> = {
  'boxes-scores-classes': 'yxyx',
  rows: 'xyxy',
  yolo: 'cxcywh',
};
const DEFAULT_UNITS: Record<Layout, 'fraction' | 'pixels'> = {
  'boxes-scores-classes': 'fraction',
  rows: 'pixels',
  yolo: 'pixels',
};
const OUTPUT_ROLES = ['boxes', 'scores', 'classes'] as const;
type Role = (typeof OUTPUT_ROLES)[number];

export const DETECTION_SETTINGS = [
  'output',
  'output_layout',
  'outputs',
  'box_format',
  'box_units',
  'class_offset',
];

/** Reads one image's candidate boxes (as fractions of the image) from the network's outputs. */
export interface DetectionDecoder {
  layout: Layout;
  decode(outputs: Record<string, OutputTensor>): Scored[];
}

export function detectionDecoder(
  ctx: TaskContext,
  labels: readonly string[],
  size: [number, number],
): DetectionDecoder {
  const { runtime } = ctx;
  const layout = runtime.oneOf('output_layout', LAYOUTS) ?? inferLayout(ctx, labels.length);
  const format = runtime.oneOf('box_format', BOX_FORMATS, DEFAULT_FORMAT[layout]);
  const units = runtime.oneOf('box_units', ['fraction', 'pixels'] as const, DEFAULT_UNITS[layout]);
  const offset = runtime.number('class_offset', { integer: true }) ?? 0;
  const [height, width] = units === 'pixels' ? size : [1, 1];
  const toBox = (v: ArrayLike<number>, at: number): Box => boxOf(v, at, format, width, height);
  const candidate = (v: ArrayLike<number>, at: number, score: number, cls: number): Scored => ({
    box: toBox(v, at),
    score,
    classIndex: Math.round(cls) - offset,
  });

  if (layout === 'boxes-scores-classes') {
    const names = roleOutputs(ctx, runtime.child('outputs'));
    return {
      layout,
      decode(outputs) {
        const boxes = outputNamed(outputs, names.boxes).data;
        const scores = outputNamed(outputs, names.scores).data;
        const classes = outputNamed(outputs, names.classes).data;
        const count = Math.min(scores.length, classes.length, boxes.length / 4);
        return Array.from({ length: count }, (_, i) => candidate(boxes, i * 4, scores[i]!, classes[i]!));
      },
    };
  }
  const output = singleOutput(ctx, layout);
  if (layout === 'rows') {
    return {
      layout,
      decode(outputs) {
        const rows = outputNamed(outputs, output.name).data;
        return Array.from({ length: Math.floor(rows.length / 6) }, (_, i) =>
          candidate(rows, i * 6, rows[i * 6 + 4]!, rows[i * 6 + 5]!),
        );
      },
    };
  }
  return {
    layout,
    decode(outputs) {
      const out = outputNamed(outputs, output.name);
      return yoloCandidates(out, labels.length, toBox);
    },
  };
}

function yoloCandidates(
  out: OutputTensor,
  classes: number,
  toBox: (v: ArrayLike<number>, at: number) => Box,
): Scored[] {
  const channels = 4 + classes;
  const [, a, b] = out.shape;
  // [1, 4+C, anchors] is what Ultralytics exports; some tools transpose it to [1, anchors, 4+C]
  if (a !== channels && b !== channels) {
    throw folderError(
      `the yolo output has shape ${shapeText(out.shape)}; with ${classes} labels one of its dimensions must be ` +
        `4 + ${classes} = ${channels} (box then one score per label): runtime.labels and the output must match`,
    );
  }
  const channelsFirst = a === channels;
  const anchors = channelsFirst ? b! : a!;
  const at = (anchor: number, channel: number) =>
    out.data[channelsFirst ? channel * anchors + anchor : anchor * channels + channel]!;
  const found: Scored[] = [];
  const box = new Float32Array(4);
  for (let anchor = 0; anchor < anchors; anchor++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (at(anchor, 4 + c) > at(anchor, 4 + best)) best = c;
    for (let k = 0; k < 4; k++) box[k] = at(anchor, k);
    found.push({ box: toBox(box, 0), score: at(anchor, 4 + best), classIndex: best });
  }
  return found;
}

function boxOf(v: ArrayLike<number>, at: number, format: BoxFormat, width: number, height: number): Box {
  const [a, b, c, d] = [v[at]!, v[at + 1]!, v[at + 2]!, v[at + 3]!];
  let [left, top, right, bottom] =
    format === 'xyxy'
      ? [a, b, c, d]
      : format === 'yxyx'
        ? [b, a, d, c]
        : [a - c / 2, b - d / 2, a + c / 2, b + d / 2];
  [left, right] = [clamp(left / width), clamp(right / width)];
  [top, bottom] = [clamp(top / height), clamp(bottom / height)];
  return { top, left, bottom, right };
}

function clamp(v: number): number {
  return Math.min(1, Math.max(0, v));
}

/** Picks the layout from the outputs when the config does not say, or explains what to set. */
function inferLayout(ctx: TaskContext, classes: number): Layout {
  const outs = ctx.model.outputs;
  if (outs.length >= 3 && OUTPUT_ROLES.every((role) => outs.some((o) => matchesRole(o.name, role)))) {
    return 'boxes-scores-classes';
  }
  if (outs.length === 1) {
    const shape = outs[0]!.shape;
    if (shape.at(-1) === 6 && (shape.length === 2 || shape.length === 3)) return 'rows';
    if (shape.length === 3 && (shape[1] === 4 + classes || shape[2] === 4 + classes)) return 'yolo';
  }
  throw folderError(
    `${describeTensors(ctx, 'output')}; set config.yaml ${ctx.runtime.where('output_layout')} to one of ${LAYOUTS.join(', ')}`,
  );
}

const ROLE_WORDS: Record<Role, string> = { boxes: 'box', scores: 'score', classes: 'class' };

function matchesRole(name: string, role: Role): boolean {
  return name.toLowerCase().includes(ROLE_WORDS[role]);
}

/** boxes, scores, classes outputs: named in `runtime.outputs`, else found by name. */
function roleOutputs(ctx: TaskContext, names: ConfigReader): Record<Role, string> {
  names.allowOnly(OUTPUT_ROLES);
  const result = {} as Record<Role, string>;
  for (const role of OUTPUT_ROLES) {
    const given = names.string(role);
    const info = given
      ? ctx.model.outputs.find((o) => o.name === given)
      : ctx.model.outputs.find((o) => matchesRole(o.name, role));
    if (!info) {
      throw folderError(
        `${describeTensors(ctx, 'output')}; ${given ? `there is no "${given}"` : `none is named like ${role}`}` +
          ` (set config.yaml ${names.where(role)} to the ${role} output's name)`,
      );
    }
    result[role] = info.name;
  }
  return result;
}

function singleOutput(ctx: TaskContext, layout: Layout): TensorInfo {
  const name = ctx.runtime.string('output');
  const info = name ? ctx.model.outputs.find((o) => o.name === name) : ctx.model.outputs[0];
  if (!info) throw folderError(`${describeTensors(ctx, 'output')}; there is no "${name}"`);
  const rank = info.shape.length;
  if (layout === 'rows' && (info.shape.at(-1) ?? 6) !== 6) {
    throw folderError(
      `${ctx.file} output "${info.name}" has shape ${shapeText(info.shape)}; output_layout rows needs [N, 6] rows of x1, y1, x2, y2, score, class`,
    );
  }
  if (layout === 'yolo' && rank !== 3) {
    throw folderError(
      `${ctx.file} output "${info.name}" has shape ${shapeText(info.shape)}; output_layout yolo needs [1, 4 + classes, anchors]`,
    );
  }
  return info;
}
