import { mkdir, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Data } from '../../core/wire.js';

const COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

/** The file an input's drawing goes to: its path with "/" as "__", so folders never collide. */
export function annotatedName(source: string, isJpeg: boolean): string {
  const base =
    source
      .replace(/^(\.\/)+/, '')
      .replace(/^\/+/, '')
      .replace(/[/\\]/g, '__') || 'input';
  const stem = base.replace(/^-$/, 'stdin').replace(/[?#:].*$/, '') || 'input';
  const ext = extname(stem).toLowerCase();
  const noExt = ext ? stem.slice(0, -ext.length) : stem;
  return `${noExt}${isJpeg ? '.jpg' : '.png'}`;
}

/**
 * Draws an image's regions (boxes with their best concept and value) or, for a classifier, its top
 * concepts as a caption, through an SVG overlay that sharp composites. Boxes are fractions of the
 * image as stored (no EXIF rotation), which is how the engine decodes it too. sharp is imported
 * here only, so only `--annotate` pays for it.
 */
export async function annotate(bytes: Buffer, data: Data, dir: string, name: string): Promise<string> {
  const { default: sharp } = await import('sharp');
  const image = sharp(bytes);
  const meta = await image.metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(Math.min(width, height) / 30));
  const parts: string[] = [];
  const label = (x: number, y: number, text: string, colour: string) => {
    const w = Math.round(text.length * font * 0.6 + font * 0.6);
    const top = Math.max(0, y - font - 6);
    parts.push(
      `<rect x="${x}" y="${top}" width="${w}" height="${font + 6}" fill="${colour}"/>`,
      `<text x="${x + font * 0.3}" y="${top + font}" font-family="sans-serif" font-size="${font}" fill="#fff">${escapeXml(text)}</text>`,
    );
  };
  const regions = data.regions ?? [];
  regions.forEach((r, i) => {
    const b = r.region_info?.bounding_box;
    if (!b) return;
    const colour = COLOURS[i % COLOURS.length]!;
    const x = Math.round(b.left_col * width);
    const y = Math.round(b.top_row * height);
    const w = Math.round((b.right_col - b.left_col) * width);
    const h = Math.round((b.bottom_row - b.top_row) * height);
    parts.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
    );
    const c = r.data?.concepts?.[0];
    if (c) label(x, y + (y < font + 6 ? font + 6 : 0), `${c.name || c.id} ${c.value.toFixed(2)}`, colour);
  });
  if (regions.length === 0 && data.concepts && data.concepts.length > 0) {
    data.concepts
      .slice(0, 3)
      .forEach((c, i) =>
        label(0, (i + 1) * (font + 6), `${c.name || c.id} ${c.value.toFixed(2)}`, COLOURS[i]!),
      );
  }
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`,
  );
  const drawn = image.composite([{ input: svg, top: 0, left: 0 }]);
  const out =
    meta.format === 'jpeg' ? await drawn.jpeg({ quality: 90 }).toBuffer() : await drawn.png().toBuffer();
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, out);
  return path;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
