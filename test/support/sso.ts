import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';

/** The tab's Entra app in tests: a fixed client id and Application ID URI. */
export const TAB_CLIENT_ID = '6d0e4c1a-5f2b-4a3c-9d8e-7f6a5b4c3d2e';
export const TAB_APP_ID_URI = `api://127.0.0.1/${TAB_CLIENT_ID}`;

export interface TokenOptions {
  claims?: JWTPayload;
  audience?: string;
  issuer?: string;
  /** Seconds from now; negative for a token that has already expired. */
  expiresIn?: number;
  /** Sign with a key the JWKS does not publish (a forged token). */
  forged?: boolean;
  kid?: string;
}

export interface IdentityProvider {
  jwksUri: string;
  /** The environment a bot needs to trust this provider's tokens. */
  env: Record<string, string>;
  /** A token as Teams SSO hands the tab for this user: v2, aud = client id, scp = access_as_user. */
  token(user: { tenantId: string; aadObjectId: string; name: string; upn: string }, options?: TokenOptions): Promise<string>;
  /** How many times the bot fetched the key set. */
  jwksRequests(): number;
  close(): Promise<void>;
}

/**
 * Stands in for Entra ID: an RSA key pair made for this run, its public half served as a JWKS over HTTP, and tokens
 * signed with it. No real tenant is involved.
 */
export async function startIdentityProvider(): Promise<IdentityProvider> {
  const kid = 'test-key-1';
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const forger: { privateKey: KeyLike } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discovery/v2.0/keys`;

  return {
    jwksUri,
    env: { AAD_APP_CLIENT_ID: TAB_CLIENT_ID, AAD_APP_ID_URI: TAB_APP_ID_URI, AAD_JWKS_URI: jwksUri },
    async token(user, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        tid: user.tenantId,
        oid: user.aadObjectId,
        name: user.name,
        preferred_username: user.upn,
        scp: 'access_as_user',
        ver: '2.0',
        ...o.claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? kid, typ: 'JWT' })
        .setIssuer(o.issuer ?? `https://login.microsoftonline.com/${user.tenantId}/v2.0`)
        .setAudience(o.audience ?? TAB_CLIENT_ID)
        .setIssuedAt(now - 60)
        .setNotBefore(now - 60)
        .setExpirationTime(now + (o.expiresIn ?? 3600))
        .sign(o.forged ? forger.privateKey : privateKey);
    },
    jwksRequests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
