import { ConfigError, loadConfig } from '../src/config';

describe('configuration', () => {
  it('defaults to local mode on loopback with SQLite under ./data', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3978, host: '127.0.0.1', localMode: true, dataDir: './data', mongo: undefined });
  });

  it('treats empty values as unset, as env files write them', () => {
    expect(loadConfig({ PORT: '', MONGODB_URI: '' })).toMatchObject({ port: 3978, mongo: undefined });
  });

  it('lists every problem at once', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: 'abc', MONGODB_URI: 'postgres://x', MicrosoftAppId: 'not-a-guid', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.split(' ')[0])).toEqual(
      expect.arrayContaining(['PORT', 'MONGODB_URI', 'MicrosoftAppId', 'LOG_LEVEL']),
    );
  });

  it('takes the channel key document for a sovereign cloud or a test harness, https only in production', () => {
    const app = { MicrosoftAppId: '11111111-2222-3333-4444-555555555555', MicrosoftAppPassword: 's' };
    expect(loadConfig({ ...app, BotOpenIdMetadata: 'http://127.0.0.1:9/openid' }).auth.BotOpenIdMetadata).toBe('http://127.0.0.1:9/openid');
    expect(loadConfig(app).auth).not.toHaveProperty('BotOpenIdMetadata');
    expect(() => loadConfig({ ...app, NODE_ENV: 'production', BotOpenIdMetadata: 'http://keys.example/openid' })).toThrow(
      /BotOpenIdMetadata must be https in production/,
    );
    expect(() => loadConfig({ ...app, BotOpenIdMetadata: 'not a url' })).toThrow(
      /BotOpenIdMetadata must be the URL of an OpenID configuration document/,
    );
  });

  it('refuses production without an app id, and an app id without its secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/MicrosoftAppId is required when NODE_ENV=production/);
    expect(() => loadConfig({ MicrosoftAppId: '11111111-2222-3333-4444-555555555555' })).toThrow(/MicrosoftAppPassword is required/);
    expect(() =>
      loadConfig({ MicrosoftAppId: '11111111-2222-3333-4444-555555555555', MicrosoftAppPassword: 's', MicrosoftAppType: 'SingleTenant' }),
    ).toThrow(/MicrosoftAppTenantId is required with MicrosoftAppType=SingleTenant/);
  });

  it('listens on all interfaces with authentication once an app id is set', () => {
    const c = loadConfig({
      MicrosoftAppId: '11111111-2222-3333-4444-555555555555',
      MicrosoftAppPassword: 's',
      MONGODB_URI: 'mongodb://db:27017/?replicaSet=rs0',
    });
    expect(c).toMatchObject({
      localMode: false,
      host: '0.0.0.0',
      mongo: { uri: 'mongodb://db:27017/?replicaSet=rs0', dbName: 'partnerOffers' },
    });
  });

  it('reads the delivery share and lease, with defaults of one instance and 8 s', () => {
    expect(loadConfig({}).delivery).toEqual({ instances: 1, leaseMs: 8_000, fulfilmentLeaseMs: 180_000 });
    expect(loadConfig({ DELIVERY_INSTANCES: '3', OUTBOX_LEASE_SECONDS: '5', FULFILMENT_LEASE_SECONDS: '4' }).delivery).toEqual({
      instances: 3,
      leaseMs: 5_000,
      fulfilmentLeaseMs: 4_000,
    });
    expect(() => loadConfig({ DELIVERY_INSTANCES: '0' })).toThrow(/DELIVERY_INSTANCES/);
    expect(() => loadConfig({ OUTBOX_LEASE_SECONDS: '1.5' })).toThrow(/OUTBOX_LEASE_SECONDS must be a whole number/);
  });

  it('keeps delivered outbox entries 7 days unless OUTBOX_RETENTION_DAYS says otherwise (whole days, at least 1)', () => {
    expect(loadConfig({}).outboxRetentionDays).toBe(7);
    expect(loadConfig({ OUTBOX_RETENTION_DAYS: '30' }).outboxRetentionDays).toBe(30);
    expect(() => loadConfig({ OUTBOX_RETENTION_DAYS: '0' })).toThrow(/OUTBOX_RETENTION_DAYS/);
    expect(() => loadConfig({ OUTBOX_RETENTION_DAYS: '2.5' })).toThrow(/OUTBOX_RETENTION_DAYS must be a whole number/);
  });

  it('points partners’ Microsoft calls at Entra and Graph, or at a local stand-in (http on this machine only, never in production)', () => {
    expect(loadConfig({}).microsoft).toEqual({
      authorityHost: 'https://login.microsoftonline.com',
      graphBaseUrl: 'https://graph.microsoft.com/v1.0',
      adminCenterUrl: 'https://admin.microsoft.com',
      partnerCenterBaseUrl: 'https://api.partnercenter.microsoft.com/v1',
    });
    expect(
      loadConfig({ MICROSOFT_AUTHORITY_HOST: 'http://127.0.0.1:5050/', MICROSOFT_GRAPH_BASE_URL: 'http://localhost:5050/v1.0/' }).microsoft,
    ).toEqual({
      authorityHost: 'http://127.0.0.1:5050',
      graphBaseUrl: 'http://localhost:5050/v1.0',
      adminCenterUrl: 'https://admin.microsoft.com',
      partnerCenterBaseUrl: 'https://api.partnercenter.microsoft.com/v1',
    });
    // Approval links on the cards point at the stand-in's admin center page in tests and the playground.
    expect(loadConfig({ MICROSOFT_ADMIN_CENTER_URL: 'http://127.0.0.1:5050/' }).microsoft.adminCenterUrl).toBe('http://127.0.0.1:5050');
    expect(loadConfig({ PARTNER_CENTER_BASE_URL: 'http://127.0.0.1:5050/partnercenter/v1/' }).microsoft.partnerCenterBaseUrl).toBe(
      'http://127.0.0.1:5050/partnercenter/v1',
    );
    expect(() => loadConfig({ PARTNER_CENTER_BASE_URL: 'http://partnercenter.example.test/v1' })).toThrow(
      /PARTNER_CENTER_BASE_URL must be https, except for a local stand-in/,
    );
    expect(() => loadConfig({ MICROSOFT_ADMIN_CENTER_URL: 'http://admin.example.test' })).toThrow(
      /MICROSOFT_ADMIN_CENTER_URL must be https, except for a local stand-in/,
    );
    expect(loadConfig({ MICROSOFT_AUTHORITY_HOST: 'https://login.microsoftonline.us' }).microsoft.authorityHost).toBe(
      'https://login.microsoftonline.us',
    );
    expect(() => loadConfig({ MICROSOFT_AUTHORITY_HOST: 'http://login.example.test' })).toThrow(
      /MICROSOFT_AUTHORITY_HOST must be https, except for a local stand-in/,
    );
    expect(() =>
      loadConfig({
        MICROSOFT_GRAPH_BASE_URL: 'http://127.0.0.1:5050/v1.0',
        NODE_ENV: 'production',
        MicrosoftAppId: '11111111-2222-3333-4444-555555555555',
        MicrosoftAppPassword: 's',
      }),
    ).toThrow(/MICROSOFT_GRAPH_BASE_URL must be https/);
    expect(() => loadConfig({ MICROSOFT_AUTHORITY_HOST: 'https://login.microsoftonline.com/common' })).toThrow(
      /MICROSOFT_AUTHORITY_HOST must be the host only, no path/,
    );
    expect(() => loadConfig({ MICROSOFT_GRAPH_BASE_URL: 'graph' })).toThrow(/MICROSOFT_GRAPH_BASE_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ MICROSOFT_AUTHORITY_HOST: 'not a url', MICROSOFT_GRAPH_BASE_URL: 'http:x' })).toThrow(
      /MICROSOFT_AUTHORITY_HOST must be an http\(s\) URL/,
    );
  });
});
