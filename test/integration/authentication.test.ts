import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import pino from 'pino';
import { cardAction } from '../support/activities';
import { alex } from '../support/people';
import { startTestBot, type TestBot } from '../support/test-bot';

const APP_ID = '5b0c7f0e-0000-4000-8000-00000000b07a';
const ISSUER = 'https://api.botframework.com';
const KID = 'channel-key-1';

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/**
 * With an app id set, every request needs a Bot Framework token. The keys come from a local OpenID document
 * (BotOpenIdMetadata), so real signatures can be checked offline: a token the channel really signed is let through,
 * and every forgery is a 401 with the same fixed body.
 */
describe('authentication with an app id set', () => {
  let bot: TestBot;
  let keys: Server;
  let signingKey: KeyLike;
  let otherKey: KeyLike;
  let publicPem: string;
  const logLines: string[] = [];
  const errors: string[] = [];
  let consoleError: jest.SpyInstance;

  const activity = () => cardAction('no.such', {}, alex, bot.sink.url);
  const claims = (o: Record<string, unknown> = {}) => ({ serviceurl: bot.sink.url, ...o });
  const sign = (key: KeyLike, o: { claims?: Record<string, unknown>; aud?: string; exp?: number | string } = {}) =>
    new SignJWT(claims(o.claims))
      .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(o.aud ?? APP_ID)
      .setIssuedAt()
      .setNotBefore('-1m')
      .setExpirationTime(o.exp ?? '10m')
      .sign(key);
  const post = (token?: string) => bot.post(activity(), token === undefined ? {} : { authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    signingKey = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, use: 'sig', alg: 'RS256', endorsements: ['msteams'] };

    keys = createServer((req, res) => {
      const base = `http://127.0.0.1:${(keys.address() as AddressInfo).port}`;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/openid')
        res.end(JSON.stringify({ issuer: ISSUER, jwks_uri: `${base}/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
      else res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve));
    const metadata = `http://127.0.0.1:${(keys.address() as AddressInfo).port}/openid`;

    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    consoleError = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(' ')));
    bot = await startTestBot({
      env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-a-real-secret', BotOpenIdMetadata: metadata },
      log: pino({ level: 'warn' }, sink),
    });
  });
  afterAll(async () => {
    consoleError.mockRestore();
    await bot.close();
    await new Promise<void>((resolve) => keys.close(() => resolve()));
  });

  it('answers every forged, expired or missing token with 401 and one fixed body, logged once without the token', async () => {
    const good = await sign(signingKey);
    const [header, , signature] = good.split('.');
    const forgeries: Array<[string, string | undefined]> = [
      ['no Authorization header', undefined],
      ['not a JWT', 'not-a-token'],
      ['alg none', `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: KID }))}.${good.split('.')[1]}.`],
      ['signed with another key', await sign(otherKey)],
      [
        'a swapped payload',
        `${header}.${b64url(JSON.stringify({ ...claims({ serviceurl: 'https://attacker.example/' }), iss: ISSUER, aud: APP_ID, exp: Math.floor(Date.now() / 1000) + 600 }))}.${signature}`,
      ],
      [
        'HS256 with the public key as secret',
        (() => {
          const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: KID }));
          const p = b64url(JSON.stringify({ ...claims(), iss: ISSUER, aud: APP_ID, exp: Math.floor(Date.now() / 1000) + 600 }));
          return `${h}.${p}.${createHmac('sha256', publicPem).update(`${h}.${p}`).digest('base64url')}`;
        })(),
      ],
      ['expired', await sign(signingKey, { exp: Math.floor(Date.now() / 1000) - 3600 })],
      ['for another bot', await sign(signingKey, { aud: '11111111-0000-4000-8000-000000000000' })],
      ['for another connector', await sign(signingKey, { claims: { serviceurl: 'https://attacker.example/' } })],
    ];
    const bodies = new Set<string>();
    for (const [what, token] of forgeries) {
      const before = logLines.length;
      const res = await post(token);
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
      bodies.add(JSON.stringify(res.body));
      const logged = logLines.slice(before).filter((l) => l.includes('authentication failed'));
      expect({ what, logged: logged.length }).toEqual({ what, logged: 1 });
      if (token) {
        for (const part of token.split('.').filter((x) => x.length > 10)) {
          expect(logLines.slice(before).join('\n')).not.toContain(part);
          expect(errors.join('\n')).not.toContain(part);
        }
      }
    }
    expect([...bodies]).toEqual([
      JSON.stringify({ error: { code: 'Unauthorized', message: 'The request is not authenticated as the Bot Framework.' } }),
    ]);
    // None of them reached the bot: it sent nothing and recorded no conversation.
    expect(bot.sink.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect(await bot.store.conversations.findPersonal(alex.tenantId, alex.aadObjectId)).toBeNull();
  });

  it('lets a token the channel signed through to the bot', async () => {
    const res = await post(await sign(signingKey));
    // The turn ran: the bot itself answered that it does not know this button.
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/UnknownVerb/);
  });
});

describe('authentication when the channel keys cannot be fetched', () => {
  let bot: TestBot;
  beforeAll(async () => {
    // A port nothing listens on: the key document is unreachable, as during an outage.
    bot = await startTestBot({
      env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-a-real-secret', BotOpenIdMetadata: 'http://127.0.0.1:1/openid' },
    });
  });
  afterAll(() => bot.close());

  it('answers 503, not 401: the channel retries a real activity instead of it being dropped as forged', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ serviceurl: bot.sink.url })
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setIssuer(ISSUER)
      .setAudience(APP_ID)
      .setExpirationTime('10m')
      .sign(privateKey);
    const res = await bot.post(cardAction('no.such', {}, alex, bot.sink.url), { authorization: `Bearer ${token}` });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: { code: 'Unavailable', message: 'The request cannot be authenticated right now; try again later.' },
    });
  });
});
