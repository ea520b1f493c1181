import type {
  Concept,
  Data,
  Frame,
  MultiOutputResponse,
  Output,
  Region,
  TimeSegment,
} from '../../core/wire.js';
import { table } from './table.js';

/**
 * Human output for predictions: generated text as text, concepts as a name/value table, regions
 * as a list with their boxes. `-o json` prints the v2 response instead.
 */
export function renderOutputs(res: MultiOutputResponse): string {
  const many = res.outputs.length > 1;
  return res.outputs
    .map(
      (o, i) => (many ? `# input ${i + 1}${o.input?.id ? ` (${o.input.id})` : ''}\n` : '') + renderOutput(o),
    )
    .join('\n\n');
}

function renderOutput(o: Output): string {
  if (o.status && o.status.code !== 10000) {
    return `failed: ${o.status.description}${o.status.details ? `: ${o.status.details}` : ''}`;
  }
  const parts: string[] = [];
  const d = o.data ?? {};
  if (d.text?.raw !== undefined) parts.push(d.text.raw);
  if (d.concepts && d.concepts.length > 0) parts.push(conceptTable(d.concepts));
  if (d.regions && d.regions.length > 0) parts.push(regionList(d.regions));
  if (d.time_segments) parts.push(segmentList(d.time_segments));
  if (d.frames) parts.push(frameList(d.frames));
  if (d.embeddings && d.embeddings.length > 0) {
    parts.push(
      d.embeddings
        .map(
          (e) =>
            `embedding (${e.num_dimensions} dimensions): [${e.vector.slice(0, 4).map(fmt).join(', ')}, ...]`,
        )
        .join('\n'),
    );
  }
  if (parts.length === 0) parts.push('(no concepts, regions, segments, frames or text in the output)');
  return parts.join('\n\n');
}

function conceptTable(concepts: Concept[]): string {
  return table(
    ['concept', 'value'],
    concepts.map((c) => [c.name || c.id, fmt(c.value)]),
  );
}

function regionList(regions: Region[]): string {
  const lines = regions.map((r, i) => {
    const b = r.region_info?.bounding_box;
    const box = b
      ? `top ${fmt(b.top_row)} left ${fmt(b.left_col)} bottom ${fmt(b.bottom_row)} right ${fmt(b.right_col)}`
      : 'no box';
    const concepts = (r.data?.concepts ?? []).map((c) => `${c.name || c.id} ${fmt(c.value)}`).join(', ');
    // a region may carry its own text (a line OCR read) or details (a face's estimated age)
    const text = r.data?.text?.raw !== undefined ? ` ${JSON.stringify(r.data.text.raw)}` : '';
    const age = r.data?.metadata?.age;
    const extra = typeof age === 'number' ? `, age ${age}` : '';
    return `region ${i + 1}:${text}${text && concepts ? ' ' : concepts ? ' ' : ''}${concepts}${extra}  (${box})`;
  });
  return `${regions.length} region${regions.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/** Stretches of audio (speech found by voice activity detection), with their times in seconds. */
function segmentList(segments: TimeSegment[]): string {
  if (segments.length === 0) return '0 segments';
  const lines = segments.map((s, i) => {
    const t = s.time_info;
    const concepts = (s.data?.concepts ?? []).map((c) => `${c.name || c.id} ${fmt(c.value)}`).join(', ');
    return `segment ${i + 1}: ${t.begin_time.toFixed(3)}-${t.end_time.toFixed(3)} s  ${concepts}`;
  });
  return `${segments.length} segment${segments.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/** A video's sampled frames, one line each: "frame 0 @ 0.000 s: dog 0.6600, cat 0.1200". */
function frameList(frames: Frame[]): string {
  if (frames.length === 0) return '0 frames';
  const lines = frames.map((f) => {
    const t = f.frame_info;
    return `frame ${t.index} @ ${(t.time / 1000).toFixed(3)} s: ${frameSummary(f.data ?? {})}`;
  });
  return `${frames.length} frame${frames.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/** What the model said about one frame, on one line: its concepts, regions (with their concepts) or text. */
function frameSummary(d: Data): string {
  const said: string[] = [];
  if (d.text?.raw !== undefined) said.push(JSON.stringify(d.text.raw));
  if (d.concepts && d.concepts.length > 0) said.push(conceptLine(d.concepts, 5));
  if (d.regions) {
    const named = d.regions.map((r) => conceptLine(r.data?.concepts ?? [], 1)).filter((c) => c !== '');
    said.push(
      `${d.regions.length} region${d.regions.length === 1 ? '' : 's'}${named.length > 0 ? ` (${named.join('; ')})` : ''}`,
    );
  }
  if (d.embeddings && d.embeddings.length > 0)
    said.push(`embedding (${d.embeddings[0]!.num_dimensions} dimensions)`);
  return said.length > 0 ? said.join('; ') : '(nothing found)';
}

function conceptLine(concepts: Concept[], most: number): string {
  const shown = concepts.slice(0, most).map((c) => `${c.name || c.id} ${fmt(c.value)}`);
  return shown.join(', ') + (concepts.length > most ? ', ...' : '');
}

function fmt(v: number): string {
  return v.toFixed(4);
}
