import { z } from 'zod';

/** Empty strings in env files mean "not set", so they fall back to defaults like unset keys. */
const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const ConfigSchema = z
  .object({
    NODE_ENV: optional(z.enum(['development', 'production', 'test'])),
    PORT: optional(z.coerce.number().int().min(0).max(65535)),
    HOST: optional(z.string()),
    DATA_DIR: optional(z.string()),
    MONGODB_URI: optional(z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')),
    MONGODB_DB: optional(z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only')),
    MicrosoftAppId: optional(z.guid("must be the bot registration's Application (client) ID, a GUID")),
    MicrosoftAppPassword: optional(z.string()),
    MicrosoftAppType: optional(z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI'])),
    MicrosoftAppTenantId: optional(z.string()),
    BotOpenIdMetadata: optional(z.url({ protocol: /^https?$/, error: 'must be the URL of an OpenID configuration document' })),
    TEAMS_APP_ID: optional(z.guid('must be the Teams app (manifest) id, a GUID')),
    PARTNERS_FILE: optional(z.string()),
    CATALOG_FILE: optional(z.string()),
    SOVEREIGN_TENANTS: optional(z.string()),
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
    DELIVERY_INSTANCES: optional(z.coerce.number().int('must be a whole number').min(1).max(50)),
    OUTBOX_LEASE_SECONDS: optional(z.coerce.number().int('must be a whole number').min(2).max(3600)),
    FULFILMENT_LEASE_SECONDS: optional(z.coerce.number().int('must be a whole number').min(2).max(3600)),
    OUTBOX_RETENTION_DAYS: optional(z.coerce.number().int('must be a whole number').min(1).max(3650)),
    AAD_APP_CLIENT_ID: optional(z.guid("must be the tab's Entra app registration (client) ID, a GUID")),
    AAD_APP_ID_URI: optional(z.string().regex(/^api:\/\/\S+$/, 'must be the Application ID URI, api://<tab domain>/<client id>')),
    AAD_JWKS_URI: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
    DEV_PARTNER_TENANT_ID: optional(z.string().min(1)),
    TAB_HOST_ORIGINS: optional(z.string()),
    MICROSOFT_AUTHORITY_HOST: optional(
      z
        .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
        .refine(
          (u) => !URL.canParse(u) || (new URL(u).pathname === '/' && !new URL(u).search),
          'must be the host only, no path (https://login.microsoftonline.com)',
        ),
    ),
    MICROSOFT_GRAPH_BASE_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
    MICROSOFT_ADMIN_CENTER_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
    PARTNER_CENTER_BASE_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.MicrosoftAppId) {
      ctx.addIssue({
        code: 'custom',
        path: ['MicrosoftAppId'],
        message: 'is required when NODE_ENV=production (without it the bot runs unauthenticated, for local use only)',
      });
    }
    const type = env.MicrosoftAppType ?? 'MultiTenant';
    if (env.MicrosoftAppId && type !== 'UserAssignedMSI' && !env.MicrosoftAppPassword) {
      ctx.addIssue({ code: 'custom', path: ['MicrosoftAppPassword'], message: `is required with MicrosoftAppType=${type}` });
    }
    const origins = (env.TAB_HOST_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    for (const origin of origins) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
        ctx.addIssue({
          code: 'custom',
          path: ['TAB_HOST_ORIGINS'],
          message: `"${origin}" is not an origin: scheme, host and port, no path (http://127.0.0.1:5000)`,
        });
      }
    }
    if (origins.length && env.MicrosoftAppId) {
      ctx.addIssue({
        code: 'custom',
        path: ['TAB_HOST_ORIGINS'],
        message: 'is for local test hosts only; Teams itself needs no entry (unset it, or unset MicrosoftAppId for a local run)',
      });
    }
    if (env.BotOpenIdMetadata?.startsWith('http:') && env.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['BotOpenIdMetadata'],
        message: 'must be https in production: whoever can change the keys in transit could sign tokens',
      });
    }
    if (env.AAD_JWKS_URI?.startsWith('http:') && env.MicrosoftAppId) {
      ctx.addIssue({
        code: 'custom',
        path: ['AAD_JWKS_URI'],
        message: 'must be https outside local mode: whoever can change the keys in transit could sign tokens',
      });
    }
    if (env.AAD_APP_ID_URI && !env.AAD_APP_CLIENT_ID) {
      ctx.addIssue({ code: 'custom', path: ['AAD_APP_CLIENT_ID'], message: 'is required with AAD_APP_ID_URI' });
    }
    for (const key of [
      'MICROSOFT_AUTHORITY_HOST',
      'MICROSOFT_GRAPH_BASE_URL',
      'MICROSOFT_ADMIN_CENTER_URL',
      'PARTNER_CENTER_BASE_URL',
    ] as const) {
      const url = env[key];
      if (!url?.startsWith('http:')) continue;
      if (env.NODE_ENV === 'production' || !isLoopback(url)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message:
            'must be https, except for a local stand-in on this machine (127.0.0.1, localhost) outside production: it carries partner secrets and tokens',
        });
      }
    }
    if (env.MicrosoftAppId && type !== 'MultiTenant' && !env.MicrosoftAppTenantId) {
      ctx.addIssue({ code: 'custom', path: ['MicrosoftAppTenantId'], message: `is required with MicrosoftAppType=${type}` });
    }
  });

/**
 * Every environment variable the bot reads, by name. infra/azure.bicep may set only these as the bot's App Service
 * settings (test/toolkit/infra.test.ts checks it), so a key added here needs a decision for Azure too.
 */
export const CONFIG_KEYS: readonly string[] = Object.keys(ConfigSchema.shape);

const isLoopback = (url: string) => URL.canParse(url) && ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

export interface Config {
  port: number;
  host: string;
  /** No app id: no JWT validation, loopback only. */
  localMode: boolean;
  production: boolean;
  dataDir: string;
  mongo?: { uri: string; dbName: string };
  auth: {
    MicrosoftAppId: string;
    MicrosoftAppPassword: string;
    MicrosoftAppType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
    MicrosoftAppTenantId: string;
    /** Where the keys that sign channel tokens are published (a test harness); unset means Bot Framework's public cloud. */
    BotOpenIdMetadata?: string;
  };
  teamsAppId: string;
  partnersFile: string;
  catalogFile?: string;
  sovereignTenants: string[];
  logLevel: string;
  delivery: {
    /** How many bot processes share one store: each sends within 1/N of Teams' rate limits. */
    instances: number;
    /**
     * How long a claimed outbox entry stays with one process unless renewed; the deliverer renews it every quarter of
     * this while it works, so after a crash another process takes the entry over within this.
     */
    leaseMs: number;
    /**
     * How long one process holds an order's fulfilment job while it talks to Partner Center; after a crash another
     * takes it over then. Longer than a few slow Partner Center calls with their retries.
     */
    fulfilmentLeaseMs: number;
  };
  /**
   * How long a delivered (sent) outbox entry is kept: the sweep deletes older ones. Nothing in the bot reads a sent
   * entry after it was sent; failed entries are kept until the partner retries them.
   */
  outboxRetentionDays: number;
  /** The partner dashboard tab. */
  tab: {
    /** Teams SSO (absent: not configured; in local mode the tab then runs as the development identity). */
    sso?: { clientId: string; audiences: string[]; jwksUri: string };
    /** Local mode without SSO: the partner tenant the development identity belongs to. */
    devPartnerTenantId: string;
    /** Local mode only: pages that may host the tab besides Teams (a test host playing Teams' side of teams-js). */
    hostOrigins: string[];
  };
  /** Where partners' Entra apps get tokens and where Microsoft Graph is (a local stand-in in tests and the playground). */
  microsoft: {
    /** Entra's login host, without a trailing slash; the authority is `{authorityHost}/{partner tenant}`. */
    authorityHost: string;
    /** Microsoft Graph's versioned base URL, without a trailing slash. */
    graphBaseUrl: string;
    /** Where approval links point: the Microsoft 365 admin center (a local stand-in's page in tests and the playground). */
    adminCenterUrl: string;
    /** The Partner Center API's versioned base URL, without a trailing slash (its token scope stays Partner Center's). */
    partnerCenterBaseUrl: string;
  };
}

/** Entra's signing keys for tokens from every tenant (Teams SSO tokens are signed with these). */
export const ENTRA_JWKS_URI = 'https://login.microsoftonline.com/common/discovery/v2.0/keys';
/** Entra's public-cloud login host and Microsoft Graph v1.0: the defaults, and the only cloud GDAP is offered in here. */
export const MICROSOFT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const MICROSOFT_GRAPH_BASE_URL = 'https://graph.microsoft.com/v1.0';
export const MICROSOFT_ADMIN_CENTER_URL = 'https://admin.microsoft.com';
export const PARTNER_CENTER_BASE_URL = 'https://api.partnercenter.microsoft.com/v1';
/** The Agents Playground's default tenant, which is the sample partner's: a local run's tab shows its data. */
export const PLAYGROUND_TENANT_ID = '00000000-0000-0000-0000-0000000000001';

/** The Teams app id used when none is configured; matches the development id the package script uses. */
export const DEVELOPMENT_TEAMS_APP_ID = '00000000-0000-4000-8000-00000000a991';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee env/example.env for every key.`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment once; lists every problem at once so a deployment is fixed in one go. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'} ${i.message}`));
  }
  const e = parsed.data;
  const localMode = !e.MicrosoftAppId;
  return {
    port: e.PORT ?? 3978,
    host: e.HOST ?? (localMode ? '127.0.0.1' : '0.0.0.0'),
    localMode,
    production: e.NODE_ENV === 'production',
    dataDir: e.DATA_DIR ?? './data',
    mongo: e.MONGODB_URI ? { uri: e.MONGODB_URI, dbName: e.MONGODB_DB ?? 'partnerOffers' } : undefined,
    auth: {
      MicrosoftAppId: e.MicrosoftAppId ?? '',
      MicrosoftAppPassword: e.MicrosoftAppPassword ?? '',
      MicrosoftAppType: e.MicrosoftAppType ?? 'MultiTenant',
      MicrosoftAppTenantId: e.MicrosoftAppTenantId ?? '',
      ...(e.BotOpenIdMetadata ? { BotOpenIdMetadata: e.BotOpenIdMetadata } : {}),
    },
    teamsAppId: e.TEAMS_APP_ID ?? DEVELOPMENT_TEAMS_APP_ID,
    partnersFile: e.PARTNERS_FILE ?? 'env/partners.sample.json',
    catalogFile: e.CATALOG_FILE,
    sovereignTenants: (e.SOVEREIGN_TENANTS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    logLevel: e.LOG_LEVEL ?? 'info',
    delivery: {
      instances: e.DELIVERY_INSTANCES ?? 1,
      leaseMs: (e.OUTBOX_LEASE_SECONDS ?? 8) * 1000,
      fulfilmentLeaseMs: (e.FULFILMENT_LEASE_SECONDS ?? 180) * 1000,
    },
    outboxRetentionDays: e.OUTBOX_RETENTION_DAYS ?? 7,
    tab: {
      sso: e.AAD_APP_CLIENT_ID
        ? {
            clientId: e.AAD_APP_CLIENT_ID,
            // Entra puts the Application ID URI in v1 tokens' aud and the client id in v2 tokens'.
            audiences: [e.AAD_APP_CLIENT_ID, ...(e.AAD_APP_ID_URI ? [e.AAD_APP_ID_URI] : [])],
            jwksUri: e.AAD_JWKS_URI ?? ENTRA_JWKS_URI,
          }
        : undefined,
      devPartnerTenantId: e.DEV_PARTNER_TENANT_ID ?? PLAYGROUND_TENANT_ID,
      hostOrigins: (e.TAB_HOST_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
    microsoft: {
      authorityHost: (e.MICROSOFT_AUTHORITY_HOST ?? MICROSOFT_AUTHORITY_HOST).replace(/\/+$/, ''),
      graphBaseUrl: (e.MICROSOFT_GRAPH_BASE_URL ?? MICROSOFT_GRAPH_BASE_URL).replace(/\/+$/, ''),
      adminCenterUrl: (e.MICROSOFT_ADMIN_CENTER_URL ?? MICROSOFT_ADMIN_CENTER_URL).replace(/\/+$/, ''),
      partnerCenterBaseUrl: (e.PARTNER_CENTER_BASE_URL ?? PARTNER_CENTER_BASE_URL).replace(/\/+$/, ''),
    },
  };
}
