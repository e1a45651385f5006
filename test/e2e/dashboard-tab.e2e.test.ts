/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Callbacks passed to evaluate() and waitForFunction() run in the browser.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { cardAction, installationUpdate } from '../support/activities';
import { alex, lee, megan, nestor } from '../support/people';
import { startIdentityProvider, type IdentityProvider } from '../support/sso';
import { startTestBot, type TestBot } from '../support/test-bot';
import { CHROMIUM_ARGS, chromiumPath } from './support/browser-args';
import { offlineButTeamsCdn, pageErrors, serveTeamsHost, teamsHostPage, type ServedTeamsHost } from './support/teams-host';

// Copies of these are kept in docs/screenshots for the README.
const SCREENSHOTS = join(__dirname, 'artifacts');

/**
 * The partner dashboard tab in headless Chromium, inside a page that plays Teams' side of teams-js (initialise,
 * context, SSO token, theme), against the real server with tokens from a local stand-in for Entra ID. The data is
 * made through the bot's own HTTP flow: commands and card clicks.
 */
describe('partner dashboard tab in Teams', () => {
  let idp: IdentityProvider;
  let bot: TestBot;
  let host: ServedTeamsHost;
  let browser: Browser;
  let page: Page;
  let tab: Frame;
  let tabUrl = '';
  let token = '';
  let errors: string[] = [];
  const ids = {} as Record<'trial' | 'purchase' | 'waiting' | 'delegation' | 'lead' | 'northwindLead', string>;
  const tableIds = async () => tab.locator('#rows tr[data-id]').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id));
  const waitForIds = async (expected: string[]) => {
    await tab.waitForFunction(
      (want) =>
        JSON.stringify([...document.querySelectorAll<HTMLElement>('#rows tr[data-id]')].map((tr) => tr.dataset.id)) ===
        JSON.stringify(want),
      expected,
    );
  };

  beforeAll(async () => {
    idp = await startIdentityProvider();
    host = await serveTeamsHost(() =>
      teamsHostPage({
        tabUrl,
        context: {
          userObjectId: alex.aadObjectId,
          userPrincipalName: alex.email,
          tenantId: alex.tenantId,
          theme: 'default',
          locale: 'en-gb',
          entityId: 'offers-dashboard',
        },
        token,
        // Teams opens a deep link it is asked to (app.openLink) and says so.
        responses: { executeDeepLink: [true] },
      }),
    );
    bot = await startTestBot({ env: { ...idp.env, TAB_HOST_ORIGINS: host.origin } });
    tabUrl = `${bot.url}/tab/index.html`;
    token = await idp.token({ tenantId: alex.tenantId, aadObjectId: alex.aadObjectId, name: alex.name, upn: alex.email });

    bot.meet(alex, megan, lee, nestor);
    for (const u of [alex, megan, lee, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
    await bot.sayLater('trial admin@contoso.com teams-essentials', alex);
    ids.trial = bot.lastIdSentTo('T', alex);
    await bot.sayLater('offer admin@contoso.com 25 m365-business-premium annual', alex);
    ids.purchase = bot.lastIdSentTo('P', alex);
    await bot.sayLater('trial lee@contoso.com defender-business', alex);
    ids.waiting = bot.lastIdSentTo('T', alex);
    await bot.sayLater('delegate admin@contoso.com roles Exchange Administrator days 60', alex);
    ids.delegation = bot.lastIdSentTo('D', alex);
    await bot.sayLater('delegate lee@contoso.com', nestor); // another partner's: never on Fabrikam's dashboard
    await bot.drain();
    await bot.post(cardAction('offer.accept', { offerId: ids.trial }, megan, bot.sink.url));
    await bot.post(cardAction('offer.decline', { offerId: ids.purchase, reason: 'Budget is frozen until April' }, megan, bot.sink.url));
    await bot.post(cardAction('delegation.approve', { relationshipId: ids.delegation, replaces: '' }, megan, bot.sink.url));
    // Leads: Megan asks Fabrikam to get in touch and Alex marks it won; Lee asks Northwind (never on Fabrikam's tab).
    const listingOf = async (tenantId: string) => (await bot.store.listings.get(tenantId))!.id;
    const fabrikamListing = await listingOf(alex.tenantId);
    const asked = await bot.click(
      'lead.request',
      { listingId: fabrikamListing, [`note_${fabrikamListing}`]: 'We are 40 people moving from Google Workspace; <b>call</b> us.' },
      megan,
    );
    ids.lead = /C-\w{6}/.exec(asked.text)![0];
    await bot.click('lead.won', { leadId: ids.lead }, alex);
    ids.northwindLead = /C-\w{6}/.exec((await bot.click('lead.request', { listingId: await listingOf(nestor.tenantId) }, lee)).text)![0];
    await bot.drain();

    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    await offlineButTeamsCdn(context);
    page = await context.newPage();
    errors = pageErrors(page);
    await page.goto(host.url);
    const frame = await (await page.waitForSelector('iframe#tab')).contentFrame();
    if (!frame) throw new Error('the host page has no tab frame');
    tab = frame;
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  });
  // Anything the host page or the tab reported as broken fails the test it happened in (loading counts in the first).
  afterEach(() => expect(errors.splice(0)).toEqual([]));
  afterAll(async () => {
    await browser?.close();
    await bot?.close();
    await host?.close();
    await idp?.close();
  });

  it('signs in through Teams: initialise, context, SSO token; and shows whose dashboard it is', async () => {
    const calls = await page.evaluate(() => (window as unknown as { __teamsHost: { calls: string[] } }).__teamsHost.calls);
    expect(calls.slice(0, 2)).toEqual(['initialize', 'getContext']);
    expect(calls).toContain('authentication.getAuthToken');
    expect(calls).toContain('appInitialization.success');
    await expect(tab.locator('#partner').textContent()).resolves.toBe('Fabrikam Cloud Partners');
    await expect(tab.locator('#user').textContent()).resolves.toBe('Signed in as alexw@example.com');
    expect(await tab.locator('#banner').isHidden()).toBe(true);
  });

  it("shows the partner's summary and only its own rows, newest first", async () => {
    const summary = await tab.locator('#summary').innerText();
    expect(summary).toMatch(/3\s+Offers sent/);
    expect(summary).toMatch(/1\s+Accepted/);
    expect(summary).toMatch(/1\s+Declined/);
    expect(summary).toMatch(/50%\s+Offer acceptance rate/);
    // The tab's data is record-only here (startTestBot connects no partner to Microsoft): the tile counts both kinds.
    expect(summary).toMatch(/1\s+Approved\s+delegated admin and partner of record: active at Microsoft where you connected/);
    expect(await tableIds()).toEqual([ids.delegation, ids.waiting, ids.purchase, ids.trial]);
    await expect(tab.locator('#count').textContent()).resolves.toBe('Showing 4 of 4');
    const purchase = await tab.locator(`tr[data-id="${ids.purchase}"]`).innerText();
    expect(purchase).toContain('Declined');
    expect(purchase).toContain('25 × Microsoft 365 Business Premium');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, '14-dashboard-tab.png') });
  });

  it("opens a row's recorded answers, with who answered and the reason", async () => {
    await tab.locator(`tr[data-id="${ids.purchase}"] button`).click();
    const history = tab.locator(`tr[data-history-of="${ids.purchase}"]`);
    await history.waitFor();
    // The same date format as the cards: day, short month, year, time in UTC.
    expect(await history.innerText()).toMatch(
      /Declined by Megan Bowen \(admin@contoso\.com\), \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC\n?Budget is frozen until April/,
    );
    await tab.locator(`tr[data-id="${ids.purchase}"] button`).click();
    await history.waitFor({ state: 'detached' });
  });

  it('filters by status, kind and customer, and searches', async () => {
    await tab.selectOption('#filter-status', 'accepted');
    await waitForIds([ids.delegation, ids.trial]);
    await tab.selectOption('#filter-kind', 'trial');
    await waitForIds([ids.trial]);
    await tab.selectOption('#filter-status', '');
    await tab.selectOption('#filter-kind', '');
    await tab.fill('#filter-customer', 'lee@contoso.com');
    await tab.dispatchEvent('#filter-customer', 'change');
    await waitForIds([ids.waiting]);
    await tab.fill('#filter-customer', '');
    await tab.dispatchEvent('#filter-customer', 'change');
    await tab.fill('#filter-search', 'premium');
    await waitForIds([ids.purchase]);
    await tab.fill('#filter-search', 'nothing like this');
    await tab.waitForFunction(() => document.querySelector('#rows')?.textContent?.includes('Nothing matches these filters.'));
    await expect(tab.locator('#count').textContent()).resolves.toBe('Showing 0 of 0');
  });

  it('exports the filtered table as CSV', async () => {
    await tab.fill('#filter-search', 'contoso');
    await tab.selectOption('#filter-kind', 'trial');
    await waitForIds([ids.waiting, ids.trial]);
    const [download] = await Promise.all([page.waitForEvent('download'), tab.click('#export')]);
    expect(download.suggestedFilename()).toMatch(/^offers-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^Id,Kind,Status,Customer,/);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      `${ids.waiting},Trial,Waiting for answer,lee@contoso.com`,
      `${ids.trial},Trial,Accepted,admin@contoso.com`,
    ]);
    await expect(tab.locator('#export-status').textContent()).resolves.toMatch(/^Downloaded offers-.*\.csv$/);
    await tab.fill('#filter-search', '');
    await tab.selectOption('#filter-kind', '');
    await waitForIds([ids.delegation, ids.waiting, ids.purchase, ids.trial]);
  });

  it('refreshes without reloading the page: a new offer appears after Refresh', async () => {
    await tab.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    await bot.sayLater('trial newco@fabrikam-customer.example teams-premium', alex);
    const newest = bot.lastIdSentTo('T', alex);
    await tab.click('#refresh');
    await waitForIds([newest, ids.delegation, ids.waiting, ids.purchase, ids.trial]);
    expect(await tab.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    // The counts come with Refresh's answer, which may land just after a table reload the filters started.
    await tab.waitForFunction(() => /\b4\s*Offers sent/.test(document.querySelector('#summary')?.textContent ?? ''), undefined, {
      timeout: 10_000,
    });
  });

  it('loads further pages with Load more, and only for the filters they belong to', async () => {
    for (let i = 0; i < 48; i++) await bot.sayLater(`trial buyer${i}@northwind-customer.example teams-essentials`, alex);
    await tab.click('#refresh');
    await tab.waitForFunction(() => document.querySelector('#count')?.textContent === 'Showing 50 of 53');
    expect(await tab.locator('#more').isVisible()).toBe(true);
    await tab.click('#more');
    await tab.waitForFunction(() => document.querySelector('#count')?.textContent === 'Showing 53 of 53');
    expect(await tab.locator('#more').isHidden()).toBe(true);
    expect(new Set(await tableIds()).size).toBe(53);
    await tab.selectOption('#filter-kind', 'delegation');
    await waitForIds([ids.delegation]);
    expect(await tab.locator('#more').isHidden()).toBe(true);
    await tab.selectOption('#filter-kind', '');
    await tab.waitForFunction(() => document.querySelector('#count')?.textContent === 'Showing 50 of 53');
  });

  it('shows the pipeline value per month in money: accepted purchase offers by acceptance, pending ones by when they were sent', async () => {
    await bot.sayLater('offer admin@contoso.com 10 m365-business-premium term annual billing monthly', alex);
    const accepted = bot.lastIdSentTo('P', alex);
    await bot.sayLater('offer lee@contoso.com 2 m365-business-premium annual', alex);
    await bot.drain();
    await bot.click('offer.accept', { offerId: accepted }, megan);
    await tab.click('#refresh');
    await tab.waitForFunction(() => document.querySelector('.value-table tbody')?.textContent?.includes('$220.00'));
    const table = await tab
      .locator('.value-table tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c.firstChild?.textContent ?? '').trim())));
    expect(table).toEqual([
      // As the tab's dates read (en-GB, whose short September is "Sept" in recent ICU versions, "Sep" in older ones).
      ['Month', 'Jun 2026', 'Jul 2026', 'Aug 2026', expect.stringMatching(/^Sept? 2026$/), 'Oct 2026', 'Nov 2026'],
      // 10 × $22.00 a month (a 1-year term billed monthly); the declined purchase offer (25 × $22.00) counts nowhere.
      ['Accepted', '$0.00', '$0.00', '$0.00', '$0.00', '$0.00', '$220.00'],
      // 2 × $22.00: billed annually, counted at its monthly list value.
      ['Pending', '$0.00', '$0.00', '$0.00', '$0.00', '$0.00', '$44.00'],
      // This bot's partners are not connected to Partner Center: nothing was ordered at Microsoft.
      ['Placed at Microsoft', '$0.00', '$0.00', '$0.00', '$0.00', '$0.00', '$0.00'],
    ]);
    await expect(tab.locator('.value-table caption').innerText()).resolves.toContain('USD');
  });

  it("shows the partner's leads: who, what about, when, the stage, and a chat that opens in Teams", async () => {
    await tab.click('#view-leads');
    await tab.waitForSelector('body[data-leads="ready"]');
    expect(await tab.locator('#pipeline-view').isHidden()).toBe(true);
    const rows = tab.locator('#leads tr[data-lead]');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.lead))).toEqual([ids.lead]);
    const lead = await rows.first().innerText();
    expect(lead).toMatch(/Megan Bowen\s+admin@contoso\.com\s+contoso\.com/);
    // The note as typed, markup and all, shown as text.
    expect(lead).toContain('We are 40 people moving from Google Workspace; <b>call</b> us.');
    expect(lead).toContain('Found: Microsoft 365 for small businesses: security, Exchange migrations and Teams');
    expect(lead).toMatch(/Won\s+by Alex Wilber, \d{1,2} [A-Z][a-z]{2} \d{4}/);
    expect(lead).toMatch(/\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC/);
    expect(lead).not.toContain('Lee Gu');
    await expect(tab.locator('#leads-count').textContent()).resolves.toBe('1 lead');

    const chat = rows.first().getByRole('link', { name: 'Chat with Megan Bowen' });
    const deepLink = 'https://teams.microsoft.com/l/chat/0/0?users=admin%40contoso.com';
    expect(await chat.getAttribute('href')).toBe(deepLink);
    await page.screenshot({ path: join(SCREENSHOTS, '25-dashboard-leads.png') });
    await chat.click();
    // Teams is asked to open the chat (teams-js app.openLink); the tab itself stays where it is.
    await page.waitForFunction(
      (url) =>
        (window as unknown as { __teamsHost: { messages: Array<{ func: string; args: unknown[] }> } }).__teamsHost.messages.some(
          (m) => m.func === 'executeDeepLink' && m.args[0] === url,
        ),
      deepLink,
    );
    expect(tab.url()).toBe(tabUrl);

    await tab.click('#view-pipeline');
    expect(await tab.locator('#leads-view').isHidden()).toBe(true);
    expect(await tab.locator('#pipeline-view').isVisible()).toBe(true);
  });

  it('follows the Teams theme when it changes', async () => {
    const theme = () => tab.evaluate(() => document.documentElement.dataset.theme);
    const background = () => tab.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await theme()).toBe('default');
    const light = await background();
    expect(
      await page.evaluate(() => (window as unknown as { __teamsHost: { setTheme(t: string): boolean } }).__teamsHost.setTheme('dark')),
    ).toBe(true);
    await tab.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    expect(await background()).not.toBe(light);
    await page.screenshot({ path: join(SCREENSHOTS, '15-dashboard-tab-dark.png') });
    await page.evaluate(() => (window as unknown as { __teamsHost: { setTheme(t: string): boolean } }).__teamsHost.setTheme('contrast'));
    await tab.waitForFunction(() => document.documentElement.dataset.theme === 'contrast');
    expect(await background()).toBe('rgb(0, 0, 0)');
  });
});

describe('dashboard tab outside Teams, in local mode', () => {
  it('says plainly that it runs with a development identity', async () => {
    const bot = await startTestBot();
    const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS] });
    try {
      const context = await browser.newContext();
      await offlineButTeamsCdn(context);
      const page = await context.newPage();
      const errors = pageErrors(page);
      await page.goto(`${bot.url}/tab/index.html`);
      await page.waitForSelector('body[data-ready="true"]');
      const banner = await page.locator('#banner').innerText();
      expect(banner).toContain('Local mode: this page runs with a development identity for Fabrikam Cloud Partners');
      await expect(page.locator('#user').textContent()).resolves.toBe('Development identity');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await bot.close();
    }
  });
});
