/**
 * Inputs the way people have them, typed as a user would on the embedded engine: piped stdin and
 * "-", the model and inputs as arguments, repeated --file_path, folders, quoted globs, CSV and
 * JSONL lists; many inputs in batches with one JSONL line each, a broken image failing alone,
 * --resume after an interrupt doing only the rest, --annotate drawing regions on real photos.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import type { CliResult } from '../helpers/cli.js';
import {
  conceptNames,
  DETECTION_URL,
  isolatedEnv,
  PHOTOS,
  ROOT,
  RECOGNITION_URL,
  runCli,
} from '../helpers/cli.js';
import { renderBar, progressBar } from '../../src/cli/render/progress-bar.js';

const DETECTOR = 'clarifai/main/models/general-image-detection';
const RECOGNISER = 'clarifai/main/models/general-image-recognition';
const LANGUAGE = 'clarifai/main/models/language-identification';
const CLI = join(ROOT, 'bin/clarifai.js');

/** Runs a shell line, as typed in a terminal (pipes are real pipes), with `clarifai` on the line. */
function shell(line: string, env: Record<string, string>, cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line.replaceAll('clarifai ', `"${process.execPath}" "${CLI}" `)], {
      env,
      cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Line {
  source: string;
  status: { code: number; details?: string };
  data?: {
    concepts?: { name: string }[];
    regions?: { data: { concepts: { name: string }[] } }[];
  };
}

function jsonLines(text: string): Line[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** A folder of real photos (copies), plus a README and a broken image. */
function photoFolder(copies: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-many-'));
  mkdirSync(join(dir, 'photos', 'sub'), { recursive: true });
  const names = ['dogs.jpg', 'puppy.jpg'];
  for (let i = 0; i < copies; i++) {
    const name = names[i % names.length]!;
    copyFileSync(join(PHOTOS, name), join(dir, 'photos', `${String(i).padStart(3, '0')}-${name}`));
  }
  copyFileSync(join(PHOTOS, 'chelsea.png'), join(dir, 'photos', 'sub', 'chelsea.png'));
  writeFileSync(join(dir, 'photos', 'README.md'), 'not an image\n');
  return dir;
}

describe('inputs the way people have them (embedded engine)', () => {
  const env = isolatedEnv();
  const dir = photoFolder(4);
  writeFileSync(join(dir, 'photos', 'broken.jpg'), Buffer.from('this is not a jpeg at all'));

  it('reads piped stdin and "-": text for a text model, an image for an image model', async () => {
    const text = await shell(
      `echo "Bonjour tout le monde, je voudrais un café au lait" | clarifai model predict ${LANGUAGE}`,
      env,
      dir,
    );
    assert.equal(text.code, 0, text.stderr);
    assert.equal(conceptNames(text.stdout)[0], 'fr');
    const image = await shell(
      `cat ${join(PHOTOS, 'dogs.jpg')} | clarifai model predict --model_url ${RECOGNITION_URL} --file_path - --output_config '{"max_concepts":2}'`,
      env,
      dir,
    );
    assert.equal(image.code, 0, image.stderr);
    assert.equal(conceptNames(image.stdout)[0], 'dog');
    const dash = await shell(
      `clarifai model predict ${RECOGNISER} - < ${join(PHOTOS, 'puppy.jpg')}`,
      env,
      dir,
    );
    assert.equal(dash.code, 0, dash.stderr);
    assert.equal(conceptNames(dash.stdout)[0], 'dog');
    const empty = await shell(`true | clarifai model predict ${LANGUAGE}`, env, dir);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /none was given \(stdin was empty\)/);
  });

  it('takes the model and inputs as arguments, as Clarifai’s current CLI does', async () => {
    const one = await runCli(['model', 'predict', RECOGNISER, join(PHOTOS, 'dogs.jpg')], env);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(conceptNames(one.stdout)[0], 'dog');
    const text = await runCli(['model', 'predict', LANGUAGE, 'Das ist ein schöner Tag in Berlin'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(conceptNames(text.stdout)[0], 'de');
    const current = await runCli(
      ['model', 'predict', '--model-url', RECOGNITION_URL, '--file', join(PHOTOS, 'puppy.jpg')],
      env,
    );
    assert.equal(current.code, 0, current.stderr);
    assert.equal(conceptNames(current.stdout)[0], 'dog');
    const missing = await runCli(['model', 'predict', RECOGNISER, 'photo.jpg'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read photo\.jpg: no such file/);
    const notModel = await runCli(['model', 'predict', 'photo.jpg'], env);
    assert.equal(notModel.code, 2);
    assert.match(notModel.stderr, /"photo\.jpg" is not a model/);
  });

  it('predicts every repeated --file_path, in order, each under its name', async () => {
    const res = await runCli(
      [
        'model',
        'predict',
        '--model_url',
        RECOGNITION_URL,
        '--file_path',
        join(PHOTOS, 'dogs.jpg'),
        '--file_path',
        join(PHOTOS, 'chelsea.png'),
        '--output_config',
        '{"max_concepts":1}',
      ],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    const blocks = res.stdout.split(/^# /m).filter(Boolean);
    assert.equal(blocks.length, 2, res.stdout);
    assert.match(blocks[0]!, /dogs\.jpg\nconcept\s+value\ndog /);
    assert.match(blocks[1]!, /chelsea\.png\nconcept\s+value\ncat /);
  });

  it('a folder gives one JSONL line per image; a broken image fails alone; other files are left out', async () => {
    const res = await runCli(['model', 'predict', DETECTOR, '--file_path', 'photos', '-o', 'jsonl'], env, {
      cwd: dir,
    });
    assert.equal(res.code, 2, res.stderr);
    const lines = jsonLines(res.stdout);
    assert.deepEqual(lines.map((l) => l.source).sort(), [
      'photos/000-dogs.jpg',
      'photos/001-puppy.jpg',
      'photos/002-dogs.jpg',
      'photos/003-puppy.jpg',
      'photos/broken.jpg',
      'photos/sub/chelsea.png',
    ]);
    const broken = lines.find((l) => l.source === 'photos/broken.jpg')!;
    assert.equal(broken.status.code, 30104);
    assert.match(broken.status.details!, /not a supported image/);
    const dogs = lines.find((l) => l.source === 'photos/000-dogs.jpg')!;
    assert.equal(dogs.status.code, 10000);
    assert.ok(dogs.data!.regions!.filter((r) => r.data.concepts[0]!.name === 'dog').length >= 4);
    assert.match(res.stderr, /left out 1 file whose extension is not an image type/);
    assert.match(res.stderr, /1 of 6 inputs failed \(first: photos\/broken\.jpg: Invalid input argument/);
  });

  it('expands quoted globs and reads CSV and JSONL lists', async () => {
    const glob = await runCli(['model', 'predict', RECOGNISER, 'photos/**/*.png', '-o', 'jsonl'], env, {
      cwd: dir,
    });
    assert.equal(glob.code, 0, glob.stderr);
    assert.deepEqual(
      jsonLines(glob.stdout).map((l) => l.source),
      ['photos/sub/chelsea.png'],
    );
    writeFileSync(
      join(dir, 'inputs.csv'),
      'input_id,file_path,text\ncat-1,photos/sub/chelsea.png,\n"dog, one",photos/000-dogs.jpg,\n',
    );
    const csv = await runCli(
      ['model', 'predict', RECOGNISER, '--input_list', 'inputs.csv', '-o', 'json'],
      env,
      {
        cwd: dir,
      },
    );
    assert.equal(csv.code, 0, csv.stderr);
    const outputs = JSON.parse(csv.stdout).outputs as { input: { id: string }; data: Line['data'] }[];
    assert.deepEqual(
      outputs.map((o) => [o.input.id, o.data!.concepts![0]!.name]),
      [
        ['cat-1', 'cat'],
        ['dog, one', 'dog'],
      ],
    );
    writeFileSync(
      join(dir, 'texts.jsonl'),
      '{"text": "Ceci est une phrase en français, bien sûr."}\n{"input_id": "es", "text": "Esto es una frase en español, claro que sí."}\n',
    );
    const jsonl = await runCli(
      ['model', 'predict', LANGUAGE, '--input_list', 'texts.jsonl', '-o', 'jsonl'],
      env,
      {
        cwd: dir,
      },
    );
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const byLang = jsonLines(jsonl.stdout).map((l) => [l.source, l.data!.concepts![0]!.name]);
    assert.deepEqual(byLang.sort(), [
      ['Ceci est une phrase en français, bien sûr.', 'fr'],
      ['es', 'es'],
    ]);
    writeFileSync(join(dir, 'bad.csv'), 'path\nx.jpg\n');
    const bad = await runCli(['model', 'predict', LANGUAGE, '--input_list', 'bad.csv'], env, { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /bad\.csv: the first row must name the columns, one of them file_path, url, text or input/,
    );
  });

  it('--resume after an interrupted run predicts only the rest, and appends', async () => {
    const work = photoFolder(12);
    const out = join(work, 'out.jsonl');
    const first = await runCli(['model', 'predict', DETECTOR, 'photos', '--output_file', 'out.jsonl'], env, {
      cwd: work,
    });
    assert.equal(first.code, 0, first.stderr);
    const all = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(all.length, 13);
    // as if killed after five inputs, in the middle of writing the sixth line
    writeFileSync(out, `${all.slice(0, 5).join('\n')}\n${all[5]!.slice(0, 40)}`);
    const resumed = await runCli(
      ['model', 'predict', DETECTOR, 'photos', '--output_file', 'out.jsonl', '--resume'],
      env,
      { cwd: work },
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /5 already done in out\.jsonl/);
    const lines = jsonLines(readFileSync(out, 'utf8'));
    assert.equal(lines.length, 13);
    assert.equal(new Set(lines.map((l) => l.source)).size, 13);
    const again = await runCli(
      ['model', 'predict', DETECTOR, 'photos', '--output_file', 'out.jsonl', '--resume'],
      env,
      { cwd: work },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /nothing left to predict/);
    const noFile = await runCli(['model', 'predict', DETECTOR, 'photos', '--resume'], env, { cwd: work });
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /--resume needs --output_file/);
  });

  it('an interrupt (Ctrl-C) mid-run keeps what finished; --resume does only the rest', async () => {
    const work = photoFolder(24);
    const out = join(work, 'out.jsonl');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'model',
        'predict',
        DETECTOR,
        'photos',
        '--output_file',
        'out.jsonl',
        '--batch_size',
        '2',
        '--concurrency',
        '1',
      ],
      { env, cwd: work },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lineCount = () => {
      try {
        return readFileSync(out, 'utf8').split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    };
    while (lineCount() < 4) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    await exited;
    const kept = lineCount();
    assert.ok(kept >= 4 && kept < 25, `${kept} lines kept`);
    const resumed = await runCli(
      ['model', 'predict', DETECTOR, 'photos', '--output_file', 'out.jsonl', '--resume'],
      env,
      {
        cwd: work,
      },
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    const lines = jsonLines(readFileSync(out, 'utf8'));
    assert.equal(lines.length, 25);
    assert.equal(new Set(lines.map((l) => l.source)).size, 25);
    assert.ok(lines.every((l) => l.status.code === 10000));
    assert.match(resumed.stderr, new RegExp(`${kept} already done`));
  });

  it('shows a progress bar with rate and time left on a terminal only', async () => {
    // `script` (Debian's essential bsdutils) gives the command a terminal; never skipped
    assert.ok(existsSync('/usr/bin/script'), 'this test needs /usr/bin/script (package bsdutils)');
    const work = photoFolder(4);
    const line = `clarifai model predict ${RECOGNISER} photos -o jsonl --output_file out.jsonl --batch_size 1 --concurrency 1`;
    const onTty = await shell(
      `script -qec '${line.replaceAll('clarifai ', `${process.execPath} ${CLI} `)}' /dev/null`,
      env,
      work,
    );
    assert.equal(onTty.code, 0, onTty.stdout + onTty.stderr);
    assert.match(onTty.stdout, /Predicting with general-image-recognition \[#+-*\] \d\/5 \d+% [\d.]+\/s/);
    assert.match(onTty.stdout, /5 inputs in [\d.]+ s \([\d.]+\/s\)/);
    const piped = await shell(line, env, work);
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /Predicting with|inputs in/);
  });

  it('--annotate writes each image with its regions drawn, at its own size', async () => {
    const out = join(dir, 'annotated');
    const res = await runCli(
      [
        'model',
        'predict',
        DETECTOR,
        join(PHOTOS, 'dogs.jpg'),
        join(PHOTOS, 'chelsea.png'),
        '--annotate',
        out,
      ],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['chelsea.png', 'dogs.jpg']);
    const drawn = await sharp(join(out, 'dogs.jpg')).metadata();
    const original = await sharp(join(PHOTOS, 'dogs.jpg')).metadata();
    assert.deepEqual([drawn.width, drawn.height], [original.width, original.height]);
    // the pixels differ from the photo where the boxes are drawn
    const a = await sharp(join(out, 'chelsea.png')).raw().toBuffer();
    const b = await sharp(join(PHOTOS, 'chelsea.png')).removeAlpha().raw().toBuffer();
    let changed = 0;
    for (let i = 0; i < Math.min(a.length, b.length); i += 3) if (Math.abs(a[i]! - b[i]!) > 40) changed++;
    assert.ok(changed > 1000, `only ${changed} pixels changed`);
  });

  it('refuses select_concepts names the model does not have, by name', async () => {
    const res = await runCli(
      [
        'model',
        'predict',
        '--model_url',
        DETECTION_URL,
        '--file_path',
        join(PHOTOS, 'dogs.jpg'),
        '--output_config',
        '{"select_concepts":[{"name":"Dog"}]}',
      ],
      env,
    );
    assert.equal(res.code, 2, res.stdout);
    assert.match(res.stderr, /has no concept name "Dog" \(did you mean "dog"\?\)/);
    assert.match(res.stderr, /from the embedded engine, data in /);
  });

  it('suggests the model meant, and names who answered', async () => {
    const typo = await runCli(
      ['model', 'predict', 'clarifai/main/models/general-image-recogniton', join(PHOTOS, 'dogs.jpg')],
      env,
    );
    assert.equal(typo.code, 1);
    assert.match(
      typo.stderr,
      /no model clarifai\/main\/models\/general-image-recogniton here; did you mean clarifai\/main\/models\/general-image-recognition\b/,
    );
    assert.match(typo.stderr, /\[21200\] \(from the embedded engine, data in .*; req_id [0-9a-f]+\)$/m);
  });
});

describe('progress bar', () => {
  it('shows count, percent, rate and time left', () => {
    assert.equal(
      renderBar('Predicting', 150, 2, 300, 30),
      'Predicting [############------------] 150/300 50% 5.0/s ETA 30s 30s (2 failed)',
    );
    assert.match(renderBar('x', 0, 0, 300, 1), /0\/300 0% 0\.0\/s 1s$/);
  });

  it('draws only on a terminal and ends with a summary', () => {
    let written = '';
    const stream = {
      isTTY: false,
      write: (s: string) => ((written += s), true),
    } as unknown as NodeJS.WriteStream;
    let now = 0;
    const bar = progressBar(10, 'p', stream, () => now);
    now = 2000;
    bar.add(10, 1);
    assert.equal(bar.finish(), '10 inputs in 2.0 s (5.0/s), 1 failed');
    assert.equal(written, '');
    const tty = {
      isTTY: true,
      write: (s: string) => ((written += s), true),
    } as unknown as NodeJS.WriteStream;
    const shown = progressBar(4, 'p', tty, () => now);
    shown.add(2, 0);
    shown.finish();
    assert.match(written, /p \[#{12}-{12}\] 2\/4 50%/);
    assert.ok(written.endsWith('\r\x1b[2K'));
  });
});
