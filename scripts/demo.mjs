// The Quick start's first command: a real prediction on the embedded engine, exactly as a user
// types it. The photo comes from a Debian package (see fetch-photos.sh); where apt-get is not
// available, a photo that ships inside the @vladmandic/human npm package is used instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let photo = join(root, 'test/fixtures/photos/dogs.jpg');
if (!existsSync(photo)) {
  const fetched = spawnSync('bash', [join(root, 'scripts/fetch-photos.sh')], { stdio: 'inherit' });
  if (fetched.status !== 0) photo = join(root, 'node_modules/@vladmandic/human/assets/samples.jpg');
}
const args = [
  'model',
  'predict',
  '--model_url',
  'https://clarifai.com/clarifai/main/models/general-image-recognition',
  '--file_path',
  photo,
  '--output_config',
  '{"max_concepts":5}',
];
console.log(`$ clarifai ${args.map((a) => (/[\s{}"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
const run = spawnSync(process.execPath, [join(root, 'bin/clarifai.js'), ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
