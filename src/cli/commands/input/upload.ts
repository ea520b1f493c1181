import { V2Client } from '../../../sdk/client.js';
import { inputFromBytes, inputFromUrl } from '../../../sdk/inputs.js';
import { withSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { DEFAULT_INPUT_APP, guessInputType, inputTypeOption, readLocalFile } from '../../inputs.js';

export interface UploadOptions {
  file_path?: string;
  url?: string;
  bytes?: string;
  input_type?: string;
  input_id?: string;
  app_id?: string;
}

/** Stores one input among the caller's own inputs and prints its id. */
export async function run(
  opts: UploadOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const given = (['file_path', 'url', 'bytes'] as const).filter((k) => opts[k] !== undefined);
  if (given.length !== 1) {
    throw new CliUsageError(
      `give exactly one of --file_path, --url or --bytes (${given.length === 0 ? 'none was given' : `got ${given.map((k) => `--${k}`).join(' and ')}`})`,
    );
  }
  const fileBytes = opts.file_path !== undefined ? await readLocalFile(opts.file_path) : undefined;
  const type =
    inputTypeOption(opts.input_type) ??
    guessInputType(
      fileBytes ? { fileBytes } : opts.url !== undefined ? { url: opts.url } : { bytes: opts.bytes! },
    );
  const input =
    opts.url !== undefined
      ? inputFromUrl(opts.url, type, opts.input_id)
      : inputFromBytes(fileBytes ?? Buffer.from(opts.bytes!, 'utf8'), type, opts.input_id);

  await withSession(env, async (session) => {
    const client = new V2Client(session.transport, session.pat);
    const userId = session.userId ?? (await client.getMe()).user.id;
    const res = await client.postInputs(userId, opts.app_id ?? DEFAULT_INPUT_APP, [input]);
    process.stdout.write(`${res.inputs[0]?.id ?? ''}\n`);
  });
}
