import { readFileSync } from 'node:fs';
import { cardAction, installationUpdate } from '../support/activities';
import { alex, CUSTOMER_TENANT, lee, megan, nestor, NORTHWIND_TENANT, PARTNER_TENANT, type TeamsUser } from '../support/people';
import { startIdentityProvider, TAB_APP_ID_URI, type IdentityProvider } from '../support/sso';
import { startTestBot, type TestBot } from '../support/test-bot';

interface Row {
  id: string;
  kind: string;
  status: string;
  statusLabel: string;
  customer: string;
  what: string;
  issuedBy: string;
}
interface RowsPage {
  rows: Row[];
  total: number;
  next?: string;
}

const as = (u: TeamsUser) => ({ tenantId: u.tenantId, aadObjectId: u.aadObjectId, name: u.name, upn: u.email });

/**
 * The dashboard API over real HTTP, with tokens signed by a local stand-in for Entra ID and data made the way
 * partners make it: commands and card clicks through /api/messages.
 */
describe('dashboard API', () => {
  let bot: TestBot;
  let idp: IdentityProvider;
  const ids = {} as Record<'accepted' | 'declined' | 'waiting' | 'delegation' | 'northwind' | 'meganLead' | 'leeLead', string>;

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${bot.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* CSV */
    }
    return { status: res.status, body: body as Record<string, unknown>, text, headers: res.headers };
  };
  const rows = async (token: string, query = '') => (await get(`/api/dashboard/rows${query}`, token)).body as unknown as RowsPage;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    bot = await startTestBot({ env: idp.env });
    bot.meet(alex, megan, lee, nestor);
    for (const u of [alex, megan, lee, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));

    await bot.sayLater('trial admin@contoso.com teams-essentials', alex);
    ids.accepted = bot.lastIdSentTo('T', alex);
    await bot.sayLater('offer admin@contoso.com 10 m365-business-premium monthly', alex);
    ids.declined = bot.lastIdSentTo('P', alex);
    await bot.sayLater('trial lee@contoso.com defender-business', alex);
    ids.waiting = bot.lastIdSentTo('T', alex);
    await bot.sayLater('delegate admin@contoso.com roles User Administrator days 90', alex);
    ids.delegation = bot.lastIdSentTo('D', alex);
    await bot.sayLater('delegate lee@contoso.com roles Helpdesk Administrator', nestor);
    ids.northwind = bot.lastIdSentTo('D', nestor);
    await bot.drain();

    await bot.post(cardAction('offer.accept', { offerId: ids.accepted }, megan, bot.sink.url));
    await bot.post(cardAction('offer.decline', { offerId: ids.declined, reason: '=HYPERLINK("http://evil")' }, megan, bot.sink.url));
    await bot.post(cardAction('delegation.approve', { relationshipId: ids.delegation, replaces: '' }, megan, bot.sink.url));

    // Leads: Megan asks Fabrikam to get in touch (Alex marks it contacted), Lee asks Northwind.
    const listingOf = async (u: TeamsUser) => (await bot.store.listings.get(u.tenantId))!.id;
    const fabrikamListing = await listingOf(alex);
    const asked = await bot.click(
      'lead.request',
      { listingId: fabrikamListing, [`note_${fabrikamListing}`]: '=HYPERLINK("http://evil") 40 users, moving from Google' },
      megan,
    );
    ids.meganLead = /C-\w{6}/.exec(asked.text)![0];
    await bot.click('lead.contacted', { leadId: ids.meganLead }, alex);
    ids.leeLead = /C-\w{6}/.exec((await bot.click('lead.request', { listingId: await listingOf(nestor) }, lee)).text)![0];
    await bot.drain();
    // Two dozen requests through the whole bot: more than jest's default 5 s on a busy machine.
  }, 60_000);
  afterAll(async () => {
    await bot.close();
    await idp.close();
  });

  describe('who may call it', () => {
    it('refuses a request without a token, and says to open the tab in Teams', async () => {
      const res = await get('/api/dashboard/rows');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body.error).toEqual({ code: 'noToken', message: expect.stringContaining('Open the Offers tab in Teams') });
    });

    it.each<[string, () => Promise<string>, string]>([
      ['an expired token', () => idp.token(as(alex), { expiresIn: -300 }), 'tokenExpired'],
      ['a token for another app (wrong audience)', () => idp.token(as(alex), { audience: 'api://elsewhere/1234' }), 'invalidToken'],
      ['a token with a forged signature', () => idp.token(as(alex), { forged: true }), 'invalidToken'],
      ['a token signed with a key Entra never published', () => idp.token(as(alex), { forged: true, kid: 'unknown-key' }), 'invalidToken'],
      [
        'a token from an issuer that is not Entra for its tenant',
        () => idp.token(as(alex), { issuer: `https://login.microsoftonline.com/${NORTHWIND_TENANT}/v2.0` }),
        'badIssuer',
      ],
      ['a token without the access_as_user scope', () => idp.token(as(alex), { claims: { scp: 'User.Read' } }), 'badScope'],
      [
        'a token with alg none',
        async () => {
          const [, payload] = (await idp.token(as(alex))).split('.');
          return `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
        },
        'invalidToken',
      ],
    ])('refuses %s with 401 and returns no rows', async (_what, make, code) => {
      const res = await get('/api/dashboard/rows', await make());
      expect(res.status).toBe(401);
      expect((res.body.error as { code: string }).code).toBe(code);
      expect(res.body.rows).toBeUndefined();
    });

    it('takes a v1 token whose audience is the Application ID URI', async () => {
      const token = await idp.token(as(alex), { audience: TAB_APP_ID_URI, issuer: `https://sts.windows.net/${alex.tenantId}/` });
      expect((await get('/api/dashboard/overview', token)).status).toBe(200);
    });

    it("refuses a guest account in the partner's tenant", async () => {
      const token = await idp.token(as(alex), { claims: { idp: 'https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/' } });
      const res = await get('/api/dashboard/rows', token);
      expect(res.status).toBe(403);
      expect((res.body.error as { code: string }).code).toBe('guestAccount');
    });

    it('refuses a valid token from a tenant that is not a registered partner (a customer)', async () => {
      const res = await get('/api/dashboard/rows', await idp.token(as(megan)));
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({ code: 'notAPartner', message: expect.stringContaining(`tenant ${CUSTOMER_TENANT}`) });
    });
  });

  describe('a partner sees exactly its own rows', () => {
    it("returns Fabrikam's offers and requests, newest first, and none of Northwind's", async () => {
      const page = await rows(await idp.token(as(alex)));
      expect(page.rows.map((r) => r.id)).toEqual([ids.delegation, ids.waiting, ids.declined, ids.accepted]);
      expect(page.total).toBe(4);
      expect(page.rows.find((r) => r.id === ids.accepted)).toMatchObject({
        kind: 'trial',
        status: 'accepted',
        statusLabel: 'Accepted',
        customer: 'admin@contoso.com',
        issuedBy: 'Alex Wilber',
      });
      // Approved in the bot only: the label never says the relationship is active at Microsoft.
      expect(page.rows.find((r) => r.id === ids.delegation)).toMatchObject({
        kind: 'delegation',
        status: 'accepted',
        statusLabel: 'Approved (recorded)',
        what: 'User Administrator (90 days)',
      });
    });

    it("returns Northwind's single request to Northwind, whoever in Northwind asks", async () => {
      const page = await rows(
        await idp.token({ tenantId: NORTHWIND_TENANT, aadObjectId: 'c1', name: 'Jo Nis', upn: 'jonis@northwind.example' }),
      );
      expect(page.rows.map((r) => r.id)).toEqual([ids.northwind]);
    });

    it("answers another partner's id exactly like an unknown one", async () => {
      const northwind = await idp.token(as(nestor));
      const theirs = await get(`/api/dashboard/rows/${ids.accepted}/history`, northwind);
      const unknown = await get('/api/dashboard/rows/T-ZZZZZZ/history', northwind);
      expect(theirs.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect((theirs.body.error as { message: string }).message).toBe(
        `There is no offer or request ${ids.accepted} from your organisation.`,
      );
    });

    it("shows a row's recorded answers, with who and the comment", async () => {
      const token = await idp.token(as(alex));
      const accepted = (await get(`/api/dashboard/rows/${ids.accepted}/history`, token)).body;
      expect(accepted.records).toEqual([{ at: expect.any(String), decision: 'Accepted', by: 'Megan Bowen (admin@contoso.com)' }]);
      const declined = (await get(`/api/dashboard/rows/${ids.declined}/history`, token)).body;
      expect(declined.records).toEqual([expect.objectContaining({ decision: 'Declined', comment: '=HYPERLINK("http://evil")' })]);
      const open = (await get(`/api/dashboard/rows/${ids.waiting}/history`, token)).body;
      expect(open.records).toEqual([]);
      expect((await get('/api/dashboard/rows/not-an-id/history', token)).status).toBe(400);
    });

    it('gives the first paint in one answer: who, the summary and the first page', async () => {
      const overview = (await get('/api/dashboard/overview?limit=2', await idp.token(as(alex)))).body as {
        me: unknown;
        summary: unknown;
        page: RowsPage;
      };
      expect(overview.me).toMatchObject({
        mode: 'sso',
        user: { name: 'Alex Wilber', upn: alex.email, tenantId: alex.tenantId },
        partner: { name: 'Fabrikam Cloud Partners' },
      });
      expect(overview.page.rows.map((r) => r.id)).toEqual([ids.delegation, ids.waiting]);
      expect(overview.page.total).toBe(4);
      expect(overview.page.next).toEqual(expect.any(String));
      expect(overview.summary).toEqual({
        offers: { total: 3, awaitingDelivery: 0, waiting: 1, accepted: 1, declined: 1, expired: 0, withdrawn: 0 },
        acceptanceRate: 0.5,
        relationships: { active: 1, waiting: 0, expiring: { within1: 0, within7: 0, within30: 0 } },
        // A declined purchase offer and an accepted trial have no pipeline value: six months of zeros, this one last.
        value: {
          currency: 'USD',
          months: ['2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11'].map((month) => ({
            month,
            accepted: 0,
            pending: 0,
            placed: 0,
          })),
        },
      });
    });

    it('counts a delegation as expiring once its end is within 30, 7 and 1 days', async () => {
      const token = await idp.token(as(alex));
      const delegation = await bot.store.relationships.get(ids.delegation);
      const endsAt = Date.parse(delegation!.endsAt!);
      const at = async (msBeforeEnd: number) => {
        bot.clock.now = new Date(endsAt - msBeforeEnd);
        return ((await get('/api/dashboard/overview', token)).body.summary as { relationships: { expiring: unknown } }).relationships
          .expiring;
      };
      const day = 86_400_000;
      try {
        expect(await at(31 * day)).toEqual({ within1: 0, within7: 0, within30: 0 });
        expect(await at(20 * day)).toEqual({ within1: 0, within7: 0, within30: 1 });
        expect(await at(3 * day)).toEqual({ within1: 0, within7: 1, within30: 1 });
        expect(await at(day / 2)).toEqual({ within1: 1, within7: 1, within30: 1 });
      } finally {
        bot.clock.now = new Date('2026-11-25T10:00:00.000Z');
      }
    });
  });

  describe('leads', () => {
    interface LeadView {
      id: string;
      name: string;
      email: string;
      organisation: string;
      note?: string;
      found?: string;
      createdAt: string;
      stage: { value: string; label: string; by?: string; at?: string };
      chatLink: string;
    }
    const leads = async (token: string) =>
      (await get('/api/dashboard/leads', token)).body as unknown as { leads: LeadView[]; more: boolean };

    it('lists who asked, what about, when, where it stands, and the Teams link to chat with them', async () => {
      const { leads: shown, more } = await leads(await idp.token(as(alex)));
      expect(more).toBe(false);
      expect(shown).toEqual([
        {
          id: ids.meganLead,
          name: 'Megan Bowen',
          email: 'admin@contoso.com',
          organisation: 'contoso.com',
          // What they typed, as they typed it: the page puts it in text, never in markup.
          note: '=HYPERLINK("http://evil") 40 users, moving from Google',
          found: 'Microsoft 365 for small businesses: security, Exchange migrations and Teams',
          createdAt: expect.stringMatching(/^2026-11-25T/),
          stage: { value: 'contacted', label: 'Contacted', by: 'Alex Wilber', at: expect.stringMatching(/^2026-11-25T/) },
          chatLink: 'https://teams.microsoft.com/l/chat/0/0?users=admin%40contoso.com',
        },
      ]);
      // The same link as the lead card's "Chat with Megan Bowen".
      const card = bot.sink.sentTo(alex.conversationId).find((r) => bot.sink.textOf(r).includes(`NEW LEAD · ${ids.meganLead}`))!;
      expect(JSON.stringify(bot.sink.cards(card))).toContain(shown[0]!.chatLink);
    });

    it('shows each partner only its own leads, whoever in it asks', async () => {
      const northwind = await leads(
        await idp.token({ tenantId: NORTHWIND_TENANT, aadObjectId: 'c1', name: 'Jo Nis', upn: 'jonis@northwind.example' }),
      );
      expect(northwind.leads.map((l) => l.id)).toEqual([ids.leeLead]);
      expect(northwind.leads[0]).toMatchObject({ name: 'Lee Gu', stage: { value: 'new', label: 'New' } });
      expect((await leads(await idp.token(as(alex)))).leads.map((l) => l.id)).not.toContain(ids.leeLead);
    });

    it('refuses without a valid token, and a customer tenant', async () => {
      expect((await get('/api/dashboard/leads')).status).toBe(401);
      expect((await get('/api/dashboard/leads', await idp.token(as(alex), { forged: true }))).status).toBe(401);
      const customer = await get('/api/dashboard/leads', await idp.token(as(megan)));
      expect(customer.status).toBe(403);
      expect(customer.body.leads).toBeUndefined();
    });
  });

  describe('filters, search and pages', () => {
    it.each([
      ['?status=accepted', () => [ids.delegation, ids.accepted]],
      ['?status=waiting', () => [ids.waiting]],
      ['?status=declined,waiting', () => [ids.waiting, ids.declined]],
      ['?kind=delegation', () => [ids.delegation]],
      ['?kind=trial,purchase&status=accepted', () => [ids.accepted]],
      ['?customer=LEE@contoso.com', () => [ids.waiting]],
      ['?q=premium', () => [ids.declined]],
      ['?q=user%20admin', () => [ids.delegation]],
      ['?q=alex%20defender', () => [ids.waiting]],
      ['?q=%25', () => []],
    ])('%s', async (query, expected) => {
      const page = await rows(await idp.token(as(alex)), query);
      expect(page.rows.map((r) => r.id)).toEqual(expected());
      expect(page.total).toBe(expected().length);
    });

    it('says what is wrong with a filter it cannot use', async () => {
      const res = await get('/api/dashboard/rows?status=pending&limit=5000', await idp.token(as(alex)));
      expect(res.status).toBe(400);
      const { message: text } = res.body.error as { message: string };
      expect(text).toContain(
        'status must be one of awaitingDelivery, waiting, accepted, declined, expired, withdrawn, ended (got "pending")',
      );
      expect(text).toContain('limit is at most 200');
    });

    it('pages through every row once, and refuses a position it did not give out', async () => {
      const token = await idp.token(as(alex));
      const seen: string[] = [];
      let next: string | undefined;
      do {
        const page = await rows(token, `?limit=3${next ? `&after=${next}` : ''}`);
        expect(page.total).toBe(4);
        seen.push(...page.rows.map((r) => r.id));
        next = page.next;
      } while (next);
      expect(seen).toEqual([ids.delegation, ids.waiting, ids.declined, ids.accepted]);
      const forged = Buffer.from('{"createdAt":{"$gt":""},"id":"x"}').toString('base64url');
      const res = await get(`/api/dashboard/rows?after=${forged}`, token);
      expect(res.status).toBe(400);
      expect((res.body.error as { message: string }).message).toContain('start again from the first page');
    });

    it('exports the filtered rows as CSV a spreadsheet opens safely', async () => {
      const res = await get('/api/dashboard/export.csv?kind=trial,purchase', await idp.token(as(alex)));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="offers-2026-11-25.csv"');
      const lines = res.text
        .replace(/^\uFEFF/, '')
        .trimEnd()
        .split('\r\n');
      expect(lines[0]).toBe(
        'Id,Kind,Status,Customer,Customer tenant,What,Issued by,Created (UTC),Decided (UTC),Answer by (UTC),Ends (UTC),Order at Microsoft',
      );
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([ids.waiting, ids.declined, ids.accepted]);
      expect(lines[2]).toContain(
        `${ids.declined},Purchase,Declined,admin@contoso.com,${CUSTOMER_TENANT},10 × Microsoft 365 Business Premium,Alex Wilber`,
      );
    });

    it("writes a cell that would start a formula (here the sender's Teams name) as text", async () => {
      const mallory: TeamsUser = {
        ...alex,
        name: '=HYPERLINK("http://evil")',
        aadObjectId: '00000000-0000-0000-0000-0000000000066',
        id: '29:mallory',
        conversationId: 'a:personal-mallory',
        email: 'mallory@example.com',
      };
      bot.meet(mallory);
      await bot.post(installationUpdate('add', mallory, bot.sink.url));
      await bot.say('trial lee@contoso.com teams-premium', mallory);
      const id = bot.lastIdSentTo('T', mallory);
      const res = await get(`/api/dashboard/export.csv?q=${id}`, await idp.token(as(alex)));
      const line = res.text
        .replace(/^\uFEFF/, '')
        .trimEnd()
        .split('\r\n')[1];
      expect(line).toContain(`,"'=HYPERLINK(""http://evil"")",`);
    });

    it('refuses the export without a valid token', async () => {
      expect((await get('/api/dashboard/export.csv')).status).toBe(401);
      expect((await get('/api/dashboard/export.csv', await idp.token(as(alex), { forged: true }))).status).toBe(401);
    });

    it("lists the partner's customers for the filter's suggestions", async () => {
      const body = (await get('/api/dashboard/customers', await idp.token(as(alex)))).body;
      expect([...(body.customers as string[])].sort()).toEqual(['admin@contoso.com', 'lee@contoso.com']);
    });
  });

  describe('the page', () => {
    it('is served with a policy that lets only Teams (and, in local mode, local hosts) frame it', async () => {
      const res = await fetch(`${bot.url}/tab/index.html`);
      expect(res.status).toBe(200);
      const policy = res.headers.get('content-security-policy') ?? '';
      expect(policy).toContain('frame-ancestors https://teams.microsoft.com');
      expect(policy).toContain('http://127.0.0.1:*');
      expect(policy).toContain("default-src 'self'");
      expect(await res.text()).toContain('<script type="module" src="main.js">');
      expect((await fetch(`${bot.url}/tab/main.js`)).status).toBe(200);
    });

    it('lets the page connect only to its own server and the valid-domains file teams-js fetches as it loads', async () => {
      // Read from the installed teams-js, so an upgrade that moves the file fails here rather than in the tab.
      const teamsJs = readFileSync(require.resolve('@microsoft/teams-js'), 'utf8');
      const validDomains = /https:\/\/[\w.-]+\/teams-js\/validDomains\/[\w/.-]+\.json/.exec(teamsJs)?.[0];
      expect(validDomains).toBe('https://res.cdn.office.net/teams-js/validDomains/json/validDomains.json');
      const policy = (await fetch(`${bot.url}/tab/index.html`)).headers.get('content-security-policy') ?? '';
      const connect = policy
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .find(([name]) => name === 'connect-src');
      expect(connect?.slice(1)).toEqual(["'self'", validDomains]);
    });

    it('serves nothing outside its own files', async () => {
      for (const path of ['/tab/..%2Fpackage.json', '/tab/%2E%2E%2Fsrc%2Fconfig.ts', '/tab/nope.js']) {
        expect((await fetch(`${bot.url}${path}`)).status).toBe(404);
      }
    });
  });
});

describe('dashboard API: pipeline value per month', () => {
  it("sums the partner's accepted purchase offers by the month of acceptance and its pending ones by the month sent", async () => {
    const idp = await startIdentityProvider();
    const bot = await startTestBot({ env: idp.env, start: new Date('2026-10-30T09:00:00.000Z') });
    try {
      bot.meet(alex, megan, lee, nestor);
      for (const u of [alex, megan, lee, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
      // October: 10 × $22 (a 1-year term billed monthly) sent to Megan (she accepts it in November), 5 × $3 billed
      // annually to Lee (counts $15 a month).
      await bot.sayLater('offer admin@contoso.com 10 m365-business-premium term annual billing monthly', alex);
      const accepted = bot.lastIdSentTo('P', alex);
      await bot.sayLater('offer lee@contoso.com 5 defender-business annual', alex);
      // November: 2 × $22 to Lee, waiting; a trial, and another partner's offer, count nowhere.
      bot.clock.now = new Date('2026-11-02T09:00:00.000Z');
      await bot.sayLater('offer lee@contoso.com 2 m365-business-premium term annual billing monthly', alex);
      await bot.sayLater('trial admin@contoso.com teams-essentials', alex);
      await bot.sayLater('offer admin@contoso.com 100 m365-e3 term annual billing monthly', nestor);
      await bot.drain();
      await bot.click('offer.accept', { offerId: accepted }, megan);

      const value = async (u: TeamsUser) =>
        (
          (await (
            await fetch(`${bot.url}/api/dashboard/overview`, { headers: { authorization: `Bearer ${await idp.token(as(u))}` } })
          ).json()) as {
            summary: { value: unknown };
          }
        ).summary.value;
      // No partner here is connected to Partner Center, so nothing is placed at Microsoft.
      const zero = (month: string) => ({ month, accepted: 0, pending: 0, placed: 0 });
      expect(await value(alex)).toEqual({
        currency: 'USD',
        months: [
          zero('2026-06'),
          zero('2026-07'),
          zero('2026-08'),
          zero('2026-09'),
          { month: '2026-10', accepted: 0, pending: 1_500, placed: 0 },
          { month: '2026-11', accepted: 22_000, pending: 4_400, placed: 0 },
        ],
      });
      expect((await value(nestor)) as { months: unknown[] }).toMatchObject({
        months: expect.arrayContaining([{ month: '2026-11', accepted: 0, pending: 360_000, placed: 0 }]),
      });
    } finally {
      await bot.close();
      await idp.close();
    }
  }, 60_000);
});

describe("dashboard API when Entra's keys cannot be fetched", () => {
  it('answers 503 and says to try again, rather than calling a good token bad', async () => {
    const idp = await startIdentityProvider();
    const token = await idp.token(as(alex));
    const env = { ...idp.env, AAD_JWKS_URI: 'http://127.0.0.1:9/keys' };
    await idp.close();
    const bot = await startTestBot({ env });
    try {
      const res = await fetch(`${bot.url}/api/dashboard/overview`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: { code: 'keysUnavailable', message: "Teams sign-in can't be checked right now. Try again in a minute." },
      });
    } finally {
      await bot.close();
    }
  });
});

describe('dashboard API without Teams sign-in configured', () => {
  it('in local mode, answers as the development identity of the sample partner and says so', async () => {
    const bot = await startTestBot();
    try {
      const res = await fetch(`${bot.url}/api/dashboard/overview`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { me: unknown }).me).toMatchObject({
        mode: 'development',
        user: { name: 'Development identity', tenantId: PARTNER_TENANT },
        partner: { name: 'Fabrikam Cloud Partners' },
      });
    } finally {
      await bot.close();
    }
  });

  it('outside local mode, refuses everything and says which setting is missing', async () => {
    const bot = await startTestBot({ env: { MicrosoftAppId: '0b7c3d6e-1111-4222-8333-944455556666', MicrosoftAppPassword: 'secret' } });
    try {
      const res = await fetch(`${bot.url}/api/dashboard/rows`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: { code: 'ssoNotConfigured', message: expect.stringContaining('AAD_APP_CLIENT_ID') } });
    } finally {
      await bot.close();
    }
  });
});
