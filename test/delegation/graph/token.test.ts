import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MicrosoftApp } from '../../../src/directory/microsoft';
import { msalAuthority } from '../../../src/delegation/graph/authority';
import { secretSources } from '../../../src/delegation/graph/credentials';
import { TokenSource } from '../../../src/delegation/graph/token';
import { freePort } from '../../support/free-port';
import { capturingLogger, tinyServer, tokenEndpoint, type Reply, type Seen, failure } from './tiny-server';

const TENANT = '8a1b2c3d-0000-4000-8000-00000000f001';
const SECRET = 'abc8Q~not-a-real-secret-but-shaped-like-one_x';
const GRAPH = 'http://127.0.0.1:9/v1.0';

const app = (credential: MicrosoftApp['credential'] = { kind: 'secretEnv', name: 'FABRIKAM_GRAPH_SECRET' }): MicrosoftApp => ({
  tenantId: TENANT,
  clientId: '11111111-1111-1111-1111-111111111111',
  credential,
  securityGroups: [],
});

async function rig(
  answer: (req: Seen) => Reply | undefined = tokenEndpoint(SECRET),
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
) {
  const server = await tinyServer((req) => answer(req) ?? { status: 404, body: {} });
  const { log, lines } = capturingLogger();
  const files = new Map<string, string>();
  const tokens = new TokenSource({
    authorityHost: server.url,
    graphBaseUrl: GRAPH,
    log,
    timeoutMs: opts.timeoutMs ?? 5_000,
    sources: {
      env: opts.env ?? { FABRIKAM_GRAPH_SECRET: SECRET },
      readFile: (path) => {
        const content = files.get(path);
        if (content === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        return content;
      },
    },
  });
  const tokenRequests = () => server.seen.filter((s) => s.url.pathname.endsWith('/oauth2/v2.0/token'));
  return { server, tokens, lines, files, tokenRequests };
}

describe('Graph tokens through msal-node (client credentials, one app per partner)', () => {
  it('hands msal the endpoints of an http stand-in and keeps Entra as the authority; https hosts become the authority', () => {
    expect(msalAuthority('https://login.microsoftonline.com', TENANT)).toEqual({
      authority: `https://login.microsoftonline.com/${TENANT}`,
    });
    const local = msalAuthority('http://127.0.0.1:5000', TENANT);
    expect(local.authority).toBe(`https://login.microsoftonline.com/${TENANT}`);
    expect(JSON.parse(local.authorityMetadata!)).toMatchObject({ token_endpoint: `http://127.0.0.1:5000/${TENANT}/oauth2/v2.0/token` });
    const other = msalAuthority('https://login.example.test', TENANT);
    expect(other).toMatchObject({ authority: `https://login.example.test/${TENANT}`, knownAuthorities: ['login.example.test'] });
  });

  it("asks the configured host's token endpoint for the Graph scope, then serves the token from msal's cache", async () => {
    const { server, tokens, tokenRequests } = await rig();
    try {
      const first = await tokens.token(app());
      const second = await tokens.token(app());
      expect(second).toBe(first);
      expect(tokenRequests()).toHaveLength(1);
      const req = tokenRequests()[0]!;
      expect(req.url.pathname).toBe(`/${TENANT}/oauth2/v2.0/token`);
      const form = new URLSearchParams(req.body);
      expect(form.get('scope')).toBe('http://127.0.0.1:9/.default');
      expect(form.get('client_id')).toBe('11111111-1111-1111-1111-111111111111');
      expect(form.get('grant_type')).toBe('client_credentials');

      const fresh = await tokens.token(app(), { forceRefresh: true });
      expect(fresh).not.toBe(first);
      expect(tokenRequests()).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('a wrong secret is unauthorized, with Entra’s code and request id, and nothing secret in the message', async () => {
    const { server, tokens } = await rig(tokenEndpoint('the-right-one'));
    try {
      const err = await failure(tokens.token(app()));
      expect(err.kind).toBe('unauthorized');
      expect(err.details).toMatchObject({ operation: 'token', status: 401, code: 'invalid_client', requestId: 'entra-req-1' });
      expect(err.message).toMatch(/invalid_client \(AADSTS7000215\)/);
      expect(err.message).toMatch(/Invalid client secret provided/);
      expect(err.message).not.toContain(SECRET);
    } finally {
      await server.close();
    }
  });

  it('a secret that cannot be read is unauthorized and names where it should be', async () => {
    const { server, tokens, tokenRequests } = await rig(undefined, { env: {} });
    try {
      expect((await failure(tokens.token(app()))).message).toMatch(
        /environment variable FABRIKAM_GRAPH_SECRET \(clientSecretEnv\) is not set/,
      );
      const fromFile = await failure(tokens.token(app({ kind: 'secretFile', path: '/run/secrets/fabrikam' })));
      expect(fromFile.kind).toBe('unauthorized');
      expect(fromFile.message).toMatch(/cannot read clientSecretFile \/run\/secrets\/fabrikam: ENOENT/);
      expect(tokenRequests()).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('reads a secret file at every call, so a rotated secret is used at once', async () => {
    let valid = 'first-secret';
    const { server, tokens, files, tokenRequests } = await rig((req) => tokenEndpoint(valid)(req));
    try {
      const fileApp = app({ kind: 'secretFile', path: '/run/secrets/fabrikam' });
      files.set('/run/secrets/fabrikam', 'first-secret\n');
      await tokens.token(fileApp);
      await tokens.token(fileApp);
      expect(tokenRequests()).toHaveLength(1);
      expect(new URLSearchParams(tokenRequests()[0]!.body).get('client_secret')).toBe('first-secret');

      valid = 'second-secret';
      files.set('/run/secrets/fabrikam', 'second-secret');
      await tokens.token(fileApp);
      expect(tokenRequests()).toHaveLength(2);
      expect(new URLSearchParams(tokenRequests()[1]!.body).get('client_secret')).toBe('second-secret');
    } finally {
      await server.close();
    }
  });

  it('signs a client assertion with the certificate’s private key and thumbprint', async () => {
    const { server, tokens, files, tokenRequests } = await rig();
    try {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      files.set('/etc/partner/fabrikam.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      const thumbprint = 'ab'.repeat(32);
      await tokens.token(app({ kind: 'certificate', path: '/etc/partner/fabrikam.pem', thumbprint }));
      const form = new URLSearchParams(tokenRequests()[0]!.body);
      expect(form.get('client_secret')).toBeNull();
      expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const header = JSON.parse(Buffer.from(form.get('client_assertion')!.split('.')[0]!, 'base64url').toString());
      expect(header).toMatchObject({ alg: 'PS256', 'x5t#S256': Buffer.from(thumbprint, 'hex').toString('base64url') });

      const noCert = await failure(tokens.token(app({ kind: 'certificate', path: '/etc/partner/fabrikam.pem' })));
      expect(noCert.message).toMatch(/no certificate to take the thumbprint from/);
    } finally {
      await server.close();
    }
  });

  it('429 or 503 with Retry-After is throttled; msal then waits without asking, and so does this client, then asks again', async () => {
    let down = true;
    const { server, tokens, tokenRequests } = await rig((req) =>
      down
        ? {
            status: 503,
            headers: { 'retry-after': '1', 'x-ms-request-id': 'entra-503' },
            body: { error: 'temporarily_unavailable', error_codes: [50000] },
          }
        : tokenEndpoint(SECRET)(req),
    );
    try {
      const err = await failure(tokens.token(app()));
      expect(err.kind).toBe('throttled');
      expect(err.retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect(err.details).toMatchObject({ status: 503, requestId: 'entra-503' });

      down = false;
      const again = await failure(tokens.token(app()));
      expect(again.kind).toBe('throttled');
      expect(again.retryAfterMs).toBeLessThanOrEqual(1250);
      expect(tokenRequests()).toHaveLength(1);

      await new Promise((r) => setTimeout(r, again.retryAfterMs));
      await expect(tokens.token(app())).resolves.toMatch(/^eyJ/);
      expect(tokenRequests()).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('a 500 without Retry-After is transient, and msal will not ask again for 60 s', async () => {
    const { server, tokens, tokenRequests } = await rig(() => ({ status: 500, body: '<html>Internal error</html>' }));
    try {
      const err = await failure(tokens.token(app()));
      expect(err.kind).toBe('transient');
      expect(err.retryAfterMs).toBeGreaterThanOrEqual(60_000);
      expect(err.message).toMatch(/HTTP 500/);
      const again = await failure(tokens.token(app()));
      expect(again.kind).toBe('transient');
      expect(tokenRequests()).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('a token endpoint that is down or does not answer in time is transient, and the next call asks again', async () => {
    const { server, tokens, tokenRequests } = await rig(() => ({ status: 200, hang: true }), { timeoutMs: 300 });
    try {
      const slow = await failure(tokens.token(app()));
      expect(slow.kind).toBe('transient');
      expect(slow.message).toMatch(/no answer within/);
      await failure(tokens.token(app()));
      expect(tokenRequests()).toHaveLength(2);
    } finally {
      await server.close();
    }
    const down = new TokenSource({
      authorityHost: `http://127.0.0.1:${await freePort()}`,
      graphBaseUrl: GRAPH,
      log: capturingLogger().log,
      sources: { env: { FABRIKAM_GRAPH_SECRET: SECRET }, readFile: () => '' },
    });
    const refused = await failure(down.token(app()));
    expect(refused.kind).toBe('transient');
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });

  it('never logs the secret or the access token, whatever happens (everything logged at trace level)', async () => {
    let answer: 'ok' | 'refuse' | 'throttle' = 'ok';
    const issued: string[] = [];
    const { server, tokens, lines } = await rig((req) =>
      answer === 'ok'
        ? tokenEndpoint(SECRET, () => {
            issued.push(`eyJhbGciOi.${issued.length}-access-token-value.sig`);
            return issued.at(-1)!;
          })(req)
        : answer === 'refuse'
          ? tokenEndpoint('another')(req)
          : { status: 429, headers: { 'retry-after': '1' }, body: { error: 'throttled' } },
    );
    try {
      await tokens.token(app());
      await tokens.token(app(), { forceRefresh: true });
      answer = 'refuse';
      await failure(tokens.token(app(), { forceRefresh: true }));
      answer = 'throttle';
      await failure(tokens.token(app(), { forceRefresh: true }));
      await failure(tokens.token(app(), { forceRefresh: true }));
      expect(issued).toHaveLength(2);
      expect(lines.length).toBeGreaterThan(3);
      const logged = lines.join('\n');
      expect(logged).not.toContain(SECRET);
      for (const token of issued) expect(logged).not.toContain(token);
    } finally {
      await server.close();
    }
  });
});

describe('secret files on disk', () => {
  it('reads a real file, and the environment it is given, through secretSources', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-secret-'));
    const server = await tinyServer((req) => tokenEndpoint('from-disk')(req) ?? { status: 404 });
    try {
      writeFileSync(join(dir, 'secret'), 'from-disk\n', { mode: 0o600 });
      const tokens = new TokenSource({
        authorityHost: server.url,
        graphBaseUrl: GRAPH,
        log: capturingLogger().log,
        sources: secretSources({}),
      });
      await expect(tokens.token(app({ kind: 'secretFile', path: join(dir, 'secret') }))).resolves.toMatch(/^eyJ/);
      const fromEnv = new TokenSource({
        authorityHost: server.url,
        graphBaseUrl: GRAPH,
        log: capturingLogger().log,
        sources: secretSources({ FABRIKAM_GRAPH_SECRET: 'from-disk' }),
      });
      await expect(fromEnv.token(app())).resolves.toMatch(/^eyJ/);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
