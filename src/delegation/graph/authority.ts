/** Entra's public-cloud login host: msal-node knows its endpoints and needs nothing more. */
export const ENTRA_LOGIN_HOST = 'https://login.microsoftonline.com';

export interface MsalAuthority {
  authority: string;
  knownAuthorities?: string[];
  authorityMetadata?: string;
}

/**
 * The msal-node authority settings for a partner tenant at the configured login host.
 *
 * msal-node refuses an `http:` authority (`authority_uri_insecure`, msal-common UrlString.validateAsUri), and for a
 * host it does not know it first asks login.microsoftonline.com for instance discovery. So for any other host the
 * endpoints are handed over as `authorityMetadata` (msal uses them instead of its built-in or discovered ones, and
 * makes no discovery request): an https host becomes the authority itself (listed in `knownAuthorities`, which skips
 * instance discovery); an http host (a local stand-in) keeps Entra's authority string, and only the endpoints point
 * at the stand-in. Either way the one request msal makes is `POST {host}/{tenant}/oauth2/v2.0/token`.
 */
export function msalAuthority(authorityHost: string, tenantId: string): MsalAuthority {
  const host = authorityHost.replace(/\/+$/, '');
  if (host.toLowerCase() === ENTRA_LOGIN_HOST) return { authority: `${ENTRA_LOGIN_HOST}/${tenantId}` };
  const tenantBase = `${host}/${tenantId}`;
  const secure = host.startsWith('https:');
  const authorityMetadata = JSON.stringify({
    token_endpoint: `${tenantBase}/oauth2/v2.0/token`,
    authorization_endpoint: `${tenantBase}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${tenantBase}/oauth2/v2.0/logout`,
    jwks_uri: `${tenantBase}/discovery/v2.0/keys`,
    issuer: secure ? `${tenantBase}/v2.0` : `${ENTRA_LOGIN_HOST}/${tenantId}/v2.0`,
  });
  return secure
    ? { authority: tenantBase, knownAuthorities: [new URL(host).host], authorityMetadata }
    : { authority: `${ENTRA_LOGIN_HOST}/${tenantId}`, authorityMetadata };
}

/** The client-credentials scope for Graph at `graphBaseUrl`: its origin + `/.default`. */
export const graphScope = (graphBaseUrl: string): string => `${new URL(graphBaseUrl).origin}/.default`;
