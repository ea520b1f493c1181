import type { Concept, MultiOutputResponse, Output, Region, TimeSegment } from '../../core/wire.js';
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
  if (parts.length === 0) parts.push('(no concepts, regions, segments or text in the output)');
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

function fmt(v: number): string {
  return v.toFixed(4);
}
