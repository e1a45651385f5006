/** Talks to the bot's /api/dashboard with the Teams SSO token; every refusal becomes an ApiError the page can show. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where a token comes from: Teams SSO, or nothing (development identity). `fresh` asks for a new one. */
export type TokenSource = (fresh: boolean) => Promise<string | undefined>;

async function request(path: string, tokens: TokenSource, fresh = false): Promise<Response> {
  const token = await tokens(fresh);
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  // An expired token is replaced once; any other refusal is shown.
  if (res.status === 401 && !fresh && token) {
    const body = (await res
      .clone()
      .json()
      .catch(() => undefined)) as { error?: { code?: string } } | undefined;
    if (body?.error?.code === 'tokenExpired') return request(path, tokens, true);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
    throw new ApiError(
      res.status,
      body?.error?.code ?? 'http',
      body?.error?.message ?? `The server answered ${res.status}. Try again in a minute.`,
    );
  }
  return res;
}

export const getJson = async <T>(path: string, tokens: TokenSource): Promise<T> => (await (await request(path, tokens)).json()) as T;

/** Fetches with the token (a plain link could not carry it) and hands the file to the browser's download. */
export async function download(path: string, tokens: TokenSource): Promise<{ name: string; bytes: number }> {
  const res = await request(path, tokens);
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'offers.csv';
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, bytes: blob.size };
}
