import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config';
import type { Partner } from '../directory/partners';
import { isSovereign } from '../directory/sovereign';
import type { Logger } from '../log';
import type { PartnersStore } from '../directory/store';

/** Who is looking at the dashboard, and for which partner. */
export interface TabIdentity {
  tenantId: string;
  aadObjectId: string;
  name: string;
  upn?: string;
  /** Local mode without SSO: nobody signed in; the page says so. */
  development: boolean;
}

export type TabAuthResult =
  { ok: true; identity: TabIdentity; partner: Partner } | { ok: false; status: 401 | 403 | 503; code: string; message: string };

/** The scope the tab's Entra app exposes and Teams asks for (the Teams SSO convention). */
export const SSO_SCOPE = 'access_as_user';
/** Entra issues tokens from these issuers, one per tenant (v2 and v1 tokens). */
const issuersFor = (tenantId: string) => [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12,13}$/i;
/** Entra's and the browser's clocks drift; a minute either way is what Microsoft's own middleware allows. */
const CLOCK_TOLERANCE_SECONDS = 60;

type Refusal = Extract<TabAuthResult, { ok: false }>;
const refuse = (status: 401 | 403 | 503, code: string, message: string): Refusal => ({ ok: false, status, code, message });

export interface TabAuthDeps {
  config: Pick<Config, 'localMode' | 'sovereignTenants' | 'tab'>;
  store: { partners: PartnersStore };
  log: Logger;
}

/**
 * Checks the bearer token the tab got from Teams SSO: signature against the published keys, audience = this app,
 * issuer = Entra for the token's own tenant, not expired, the access_as_user scope; then the tenant must be a
 * registered partner. In local mode without SSO configured, everyone is the development identity.
 */
export function createTabAuth({ config, store, log }: TabAuthDeps) {
  const sso = config.tab.sso;
  // jose caches the key set and refetches (at most every 30 s) when a token names a key it has not seen: Entra rolls keys.
  const keys = sso ? createRemoteJWKSet(new URL(sso.jwksUri), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }) : undefined;
  // Fetched now rather than on the first person's first request; if it fails, that request fetches again.
  keys?.reload().catch((err: unknown) => log.warn({ err, jwksUri: sso?.jwksUri }, 'could not fetch the SSO signing keys yet'));

  async function partnerFor(tenantId: string): Promise<{ ok: true; partner: Partner } | Refusal> {
    const partner = await store.partners.get(tenantId);
    if (!partner) {
      return refuse(
        403,
        'notAPartner',
        `Your organisation (tenant ${tenantId}) is not registered as a partner with this bot, so there is no dashboard to show. Ask whoever runs the bot to add it to the partners file.`,
      );
    }
    if (isSovereign(tenantId, config.sovereignTenants, partner)) {
      return refuse(
        403,
        'sovereignCloud',
        'Partner features are not available in Office 365 operated by 21Vianet, so there is no dashboard for this organisation.',
      );
    }
    return { ok: true, partner };
  }

  async function verify(token: string): Promise<{ ok: true; payload: JWTPayload } | Refusal> {
    if (!sso || !keys) throw new Error('SSO is not configured');
    try {
      const { payload } = await jwtVerify(token, keys, {
        audience: sso.audiences,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iss', 'tid', 'oid'],
      });
      const tid = String(payload.tid);
      if (!GUID.test(tid) || !issuersFor(tid).includes(String(payload.iss))) {
        return refuse(
          401,
          'badIssuer',
          'This sign-in token was not issued by Microsoft Entra ID for your organisation. Close the tab and open it again from Teams.',
        );
      }
      // A guest (B2B) account in the partner's tenant carries its home identity provider in idp; the dashboard is the
      // partner's own business, for its members only.
      if (
        typeof payload.idp === 'string' &&
        !issuersFor(tid).some((iss) => payload.idp === iss || payload.idp === iss.replace(/\/v2\.0$/, '/'))
      ) {
        return refuse(
          403,
          'guestAccount',
          "Guest accounts can't open the partner dashboard: sign in to Teams with an account of the partner's own organisation.",
        );
      }
      const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
      if (!scopes.includes(SSO_SCOPE)) {
        return refuse(401, 'badScope', `This sign-in token does not grant ${SSO_SCOPE}. Close the tab and open it again from Teams.`);
      }
      return { ok: true, payload };
    } catch (err) {
      // The keys could not be fetched: nothing is known about the token yet, and trying again later may work.
      if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
        log.error({ err, jwksUri: sso.jwksUri }, 'could not fetch the SSO signing keys');
        return refuse(503, 'keysUnavailable', "Teams sign-in can't be checked right now. Try again in a minute.");
      }
      if (err instanceof joseErrors.JWTExpired) {
        return refuse(401, 'tokenExpired', 'Your sign-in has expired. Refresh the tab to sign in again.');
      }
      // Which check failed is for the log; the page only needs to know the token is no good.
      log.warn({ reason: err.code, detail: err.message }, 'tab token refused');
      return refuse(401, 'invalidToken', 'This sign-in token is not valid for this app. Close the tab and open it again from Teams.');
    }
  }

  return {
    /** `development`: the page should say it runs without Teams sign-in. */
    mode: (): 'sso' | 'development' | 'unconfigured' => (sso ? 'sso' : config.localMode ? 'development' : 'unconfigured'),

    async authenticate(authorization: string | undefined): Promise<TabAuthResult> {
      if (!sso) {
        if (!config.localMode) {
          return refuse(
            503,
            'ssoNotConfigured',
            "The dashboard's Teams sign-in is not set up: whoever runs the bot needs to set AAD_APP_CLIENT_ID (see the README).",
          );
        }
        const found = await partnerFor(config.tab.devPartnerTenantId);
        if (!found.ok) return found;
        return {
          ok: true,
          partner: found.partner,
          identity: { tenantId: found.partner.tenantId, aadObjectId: 'development', name: 'Development identity', development: true },
        };
      }
      const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
      if (!match?.[1]) {
        return refuse(401, 'noToken', 'This page needs you to be signed in through Teams. Open the Offers tab in Teams.');
      }
      const verified = await verify(match[1]);
      if (!verified.ok) return verified;
      const { payload } = verified;
      const tenantId = String(payload.tid);
      const found = await partnerFor(tenantId);
      if (!found.ok) return found;
      const upn = [payload.preferred_username, payload.upn].find((v): v is string => typeof v === 'string');
      return {
        ok: true,
        partner: found.partner,
        identity: {
          tenantId,
          aadObjectId: String(payload.oid),
          name: typeof payload.name === 'string' ? payload.name : (upn ?? 'Signed-in user'),
          upn,
          development: false,
        },
      };
    },
  };
}

export type TabAuth = ReturnType<typeof createTabAuth>;
