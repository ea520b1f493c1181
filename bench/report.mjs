// How the benchmark scripts print their results: one markdown table layout for all of them.

/** Rows as a markdown table in the layout prettier gives one, so the output pastes into RESULTS.md as is. */
export function markdownTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

/** The standard results table of judged rows ({title, measured, baseline, result, target, pass}). */
export function verdictTable(rows) {
  return markdownTable([
    ['benchmark', 'Sibyl', 'baseline', 'result', 'target', 'verdict'],
    ...rows.map((r) => [
      r.title,
      r.measured.text,
      r.baseline.text,
      r.result,
      r.target,
      r.pass ? 'PASS' : 'FAIL',
    ]),
  ]);
}
