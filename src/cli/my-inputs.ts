import type { Input } from '../core/wire.js';
import type { V2Client } from '../sdk/client.js';

const PER_PAGE = 1000;

function seg(s: string): string {
  return encodeURIComponent(s);
}

/** The ids of the caller's apps (ListApps), every page. */
export async function myApps(client: V2Client, userId: string): Promise<string[]> {
  const out: string[] = [];
  for (let page = 1; ; page++) {
    const res = await client.call<{ apps?: { id: string }[] }>(
      'GET',
      `/v2/users/${seg(userId)}/apps?page=${page}&per_page=${PER_PAGE}`,
    );
    const apps = res.apps ?? [];
    out.push(...apps.map((a) => a.id));
    if (apps.length < PER_PAGE) return out;
  }
}

/** Every input of one app (ListInputs), page by page. */
export async function* appInputs(client: V2Client, userId: string, appId: string): AsyncGenerator<Input> {
  for (let page = 1; ; page++) {
    const res = await client.call<{ inputs?: Input[] }>(
      'GET',
      `/v2/users/${seg(userId)}/apps/${seg(appId)}/inputs?page=${page}&per_page=${PER_PAGE}`,
    );
    const inputs = res.inputs ?? [];
    yield* inputs;
    if (inputs.length < PER_PAGE) return;
  }
}

/** DeleteInputs: all or nothing, as the server does it. */
export async function deleteInputs(
  client: V2Client,
  userId: string,
  appId: string,
  ids: string[],
): Promise<void> {
  await client.call('DELETE', `/v2/users/${seg(userId)}/apps/${seg(appId)}/inputs`, { ids });
}

/** The apps that hold an input with this id, looked up by GetInput in each app. */
export async function appsHolding(
  client: V2Client,
  userId: string,
  apps: readonly string[],
  inputId: string,
): Promise<{ appId: string; input: Input }[]> {
  const found: { appId: string; input: Input }[] = [];
  for (const appId of apps) {
    try {
      const res = await client.getInput(userId, appId, inputId);
      found.push({ appId, input: res.input });
    } catch (err) {
      if ((err as { httpStatus?: number }).httpStatus !== 404) throw err;
    }
  }
  return found;
}
