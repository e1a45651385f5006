import { formatDate } from '../../src/cards/format';
import { addDays } from '../../src/clock';
import type { Listing } from '../../src/marketplace/types';
import { installationUpdate } from '../support/activities';
import { cardText } from '../support/connector-sink';
import { alex, megan, nestor, SOVEREIGN_TENANT, wei, type TeamsUser } from '../support/people';
import { idIn, startTestBot, type TestBot } from '../support/test-bot';

/** The marketplace over real HTTP: partners' listings, find, ask to be contacted, and a trial sent from the lead. */
describe('marketplace over real HTTP', () => {
  let bot: TestBot;
  /** The search results of the last find: the headline of each listing card, in order. */
  const foundHeadlines = (texts: string[]) => texts.filter((t) => t.startsWith('PARTNER · M-')).map((t) => t.split('\n')[1]);
  /** Each card of the replies since message `n`, as text: a `find` reply carries one card per listing. */
  const cardsSince = (as: TeamsUser, n: number) =>
    bot.sink
      .sentTo(as.conversationId)
      .slice(n)
      .flatMap((r) => bot.sink.cards(r).map(cardText));
  const find = async (text: string, as: TeamsUser) => {
    const before = bot.replyCount(as);
    await bot.say(`find ${text}`, as);
    return cardsSince(as, before);
  };
  let fabrikam: Listing;

  beforeAll(async () => {
    bot = await startTestBot({ env: { SOVEREIGN_TENANTS: SOVEREIGN_TENANT } });
    bot.meet(alex, megan, nestor, wei);
    for (const u of [alex, megan, nestor, wei]) await bot.post(installationUpdate('add', u, bot.sink.url));
    fabrikam = (await bot.store.listings.get(alex.tenantId))!;
  });
  afterAll(() => bot.close());

  describe('a partner manages its listing', () => {
    it('listing shows it, published from the partners file, with Edit and Unpublish', async () => {
      await bot.say('listing', alex);
      const text = bot.lastReply(alex);
      expect(text).toContain('PUBLISHED · can be found with find');
      expect(text).toContain('Microsoft 365 for small businesses: security, Exchange migrations and Teams');
      expect(text).toContain('Countries: United States (US), United Kingdom (GB), Germany (DE)');
      expect(text).toMatch(/\[Edit\][\s\S]*\[Unpublish\]/);
    });

    it('the edit card answers field by field and keeps what was typed; nothing is saved', async () => {
      const edit = await bot.click('listing.edit', { listingId: fabrikam.id }, alex);
      expect(edit.text).toContain('Your marketplace listing');
      const res = await bot.click(
        'listing.save',
        {
          listingId: fabrikam.id,
          headline: '',
          description: 'd',
          services: 'm365-e5x',
          expertise: 'security',
          countries: 'DE, UK',
          languages: 'en',
          contactName: 'Alex Wilber',
          contactEmail: 'alexw@example.com',
        },
        alex,
      );
      expect(res.text).toContain('3 fields need fixing: see below.');
      expect(res.text).toContain('Give your listing a headline: what you do, in a line.');
      expect(res.text).toContain('m365-e5x is not a service in the catalog.');
      expect(res.text).toContain('"UK" is not an ISO country code. Use two-letter codes like DE, GB, US.');
      expect(JSON.stringify(res.body.value)).toContain('"value":"DE, UK"');
      expect((await bot.store.listings.get(alex.tenantId))?.version).toBe(fabrikam.version);
    });

    it('a valid edit is saved and found at once', async () => {
      const res = await bot.click(
        'listing.save',
        {
          listingId: fabrikam.id,
          headline: 'Microsoft 365 security and Exchange migrations for small businesses',
          description: fabrikam.description,
          services: fabrikam.services.join(','),
          expertise: 'security, migrations, Teams adoption',
          countries: 'US, GB, DE',
          languages: 'en, de',
          contactName: 'Alex Wilber',
          contactEmail: 'alexw@example.com',
        },
        alex,
      );
      expect(res.text).toContain('Saved');
      fabrikam = (await bot.store.listings.get(alex.tenantId))!;
      expect(fabrikam.headline).toBe('Microsoft 365 security and Exchange migrations for small businesses');
    });

    it('unpublish hides it from find; publish shows it again', async () => {
      await bot.say('listing unpublish', alex);
      expect(bot.lastReply(alex)).toContain('Unpublished');
      expect(foundHeadlines(await find('exchange migrations', megan))).not.toContain(fabrikam.headline);
      await bot.say('listing publish', alex);
      expect(foundHeadlines(await find('exchange migrations', megan))).toEqual([fabrikam.headline]);
    });

    it('customers cannot manage listings', async () => {
      await bot.say('listing', megan);
      expect(bot.lastReply(megan)).toContain('listing is for partner organisations registered with this bot');
    });
  });

  describe('find', () => {
    it('ranks by the full-text index: headline and service matches first, and filters by country and language', async () => {
      const security = foundHeadlines(await find('security exchange in DE', megan));
      expect(security[0]).toBe(fabrikam.headline);
      expect(security).toContain('Managed identity and device security with Entra ID and Intune');
      expect(foundHeadlines(await find('security language fr', megan))).toEqual([
        'Managed identity and device security with Entra ID and Intune',
      ]);
      expect(foundHeadlines(await find('security in US', megan))).toEqual([fabrikam.headline]);
      const none = await find('quantum knitting', megan);
      expect(none.at(-1)).toContain('No published listing matches "quantum knitting"');
    });

    it('shows five at a time with More results, which posts the next page', async () => {
      for (let i = 0; i < 6; i++) {
        await bot.store.partners.upsert({
          tenantId: `extra-${i}`,
          name: `Extra Partner ${i}`,
          programs: [],
          authorizedServices: ['teams-essentials'],
          cloud: 'global',
        });
        const saved = await bot.store.listings.save(
          {
            ...fabrikam,
            id: `M-EXTRA${'23456789'[i]}`.slice(0, 8),
            partnerTenantId: `extra-${i}`,
            partnerName: `Extra Partner ${i}`,
            headline: `Teams rollout specialists ${i}`,
            version: 1,
            contact: { name: 'x', email: `x${i}@extra.example` },
          },
          0,
        );
        expect(saved).toBe(true);
      }
      const first = await find('teams rollout', megan);
      expect(foundHeadlines(first)).toHaveLength(5);
      expect(first.at(-1)).toContain('Results 1–5 for "teams rollout".');
      expect(first.at(-1)).toContain('[More results]');
      const before = bot.replyCount(megan);
      const more = await bot.click('find.more', { q: 'teams rollout', page: '1' }, megan);
      expect(more.text).toContain('Showing more results for "teams rollout" below.');
      const next = cardsSince(megan, before);
      expect(foundHeadlines(next).length).toBeGreaterThanOrEqual(1);
      expect(next.at(-1)).toMatch(/Results 6–\d+, the last/);
    });

    it('partners can find other partners', async () => {
      expect(foundHeadlines(await find('identity compliance', alex))[0]).toBe(
        'Managed identity and device security with Entra ID and Intune',
      );
    });
  });

  let leadId: string;

  describe('ask to be contacted', () => {
    it('sends the partner a lead card 1:1 (no channel set) and confirms to the customer', async () => {
      const alexBefore = bot.replyCount(alex);
      const res = await bot.click(
        'lead.request',
        { listingId: fabrikam.id, [`note_${fabrikam.id}`]: 'About 40 users, moving from Google' },
        megan,
      );
      expect(res.text).toMatch(/Fabrikam Cloud Partners has been asked to get in touch \(C-\w{6}\)/);
      expect(res.text).toContain('They will contact you at admin@contoso.com.');
      leadId = idIn('C', res.text)!;
      await bot.drain();
      const lead = bot.repliesSince(alex, alexBefore);
      expect(lead).toHaveLength(1);
      expect(lead[0]).toContain(`NEW LEAD · ${leadId}`);
      expect(lead[0]).toContain('Megan Bowen asks Fabrikam Cloud Partners to get in touch');
      expect(lead[0]).toContain('From: Megan Bowen (admin@contoso.com)');
      expect(lead[0]).toContain('"About 40 users, moving from Google"');
      expect(lead[0]).toContain('[Send a trial invitation]');
    });

    it('asking the same partner again within 7 days returns the earlier request; after 7 days it is a new lead', async () => {
      const alexBefore = bot.replyCount(alex);
      const again = await bot.click('lead.request', { listingId: fabrikam.id }, megan);
      expect(again.text).toContain(`You already asked Fabrikam Cloud Partners on 2026-11-25 (${leadId})`);
      await bot.drain();
      expect(bot.replyCount(alex)).toBe(alexBefore);
      bot.clock.now = addDays(bot.clock.now, 7.5);
      const later = await bot.click('lead.request', { listingId: fabrikam.id }, megan);
      expect(later.text).toContain('has been asked to get in touch');
      expect(idIn('C', later.text)).not.toBe(leadId);
      await bot.drain();
      expect(bot.replyCount(alex)).toBe(alexBefore + 1);
    });

    it('a partner cannot ask itself, and a note over 500 characters is refused', async () => {
      expect((await bot.click('lead.request', { listingId: fabrikam.id }, alex)).text).toContain(
        "That is your own organisation's listing.",
      );
      expect(
        (await bot.click('lead.request', { listingId: fabrikam.id, [`note_${fabrikam.id}`]: 'x'.repeat(501) }, nestor)).text,
      ).toContain('The note is limited to 500 characters.');
    });

    it('"Send a trial invitation" on the lead sends a trial to the requester through offers, and they accept it', async () => {
      const res = await bot.click('lead.trial', { leadId, services: 'teams-essentials,exchange-online-p1' }, alex);
      const offerId = idIn('T', res.text)!;
      expect(res.text).toContain(`Trial invitation ${offerId} sent to admin@contoso.com`);
      expect(res.text).not.toContain('[Send a trial invitation]');
      await bot.drain();
      const card = bot.sink
        .sentTo(megan.conversationId)
        .map((r) => bot.sink.textOf(r))
        .filter((t) => t.includes(offerId))
        .at(-1)!;
      expect(card).toMatch(/Microsoft Teams Essentials[\s\S]*Exchange Online/);
      expect((await bot.click('offer.accept', { offerId }, megan)).text).toContain('Accepted on');
      expect((await bot.store.leads.get(leadId))?.trialOfferId).toBe(offerId);
      // A second press shows the trial already sent instead of sending another.
      expect((await bot.click('lead.trial', { leadId, services: 'teams-essentials' }, alex)).text).toContain(
        `Trial invitation ${offerId} sent`,
      );
      // Another partner cannot act on Fabrikam's lead.
      expect((await bot.click('lead.trial', { leadId, services: 'teams-essentials' }, nestor)).body.statusCode).toBe(400);
    });

    it('a lead card opens a chat with the person and is marked contacted, won or lost; status lists leads with it', async () => {
      const card = JSON.stringify(bot.sink.sentTo(alex.conversationId).map((r) => r.body));
      expect(card).toContain('https://teams.microsoft.com/l/chat/0/0?users=admin%40contoso.com');
      const before = bot.sink.textOf(bot.sink.sentTo(alex.conversationId).find((r) => bot.sink.textOf(r).includes(leadId))!);
      expect(before).toContain('[Chat with Megan Bowen]');
      expect(before).toMatch(/\[Mark contacted\][\s\S]*\[Mark won\][\s\S]*\[Mark lost\]/);

      const contacted = await bot.click('lead.contacted', { leadId }, alex);
      expect(contacted.text).toContain(`Contacted · marked by Alex Wilber on ${formatDate(bot.clock.now.toISOString())}`);
      expect(contacted.text).not.toContain('[Mark contacted]');
      expect(contacted.text).toMatch(/\[Mark won\][\s\S]*\[Mark lost\]/);
      const won = await bot.click('lead.won', { leadId }, alex);
      expect(won.text).toContain('Won · marked by Alex Wilber');
      expect((await bot.store.leads.get(leadId))?.stage?.value).toBe('won');

      await bot.say('status', alex);
      const leads = bot.sink
        .sentTo(alex.conversationId)
        .map((r) => bot.sink.textOf(r))
        .filter((t) => t.includes('Leads'))
        .at(-1)!;
      expect(leads).toMatch(new RegExp(`${leadId}[\\s\\S]*Megan Bowen \\(admin@contoso.com\\)[\\s\\S]*Won`));

      // Another partner cannot mark Fabrikam's lead, and a malformed id is refused.
      expect((await bot.click('lead.lost', { leadId }, nestor)).status).toBe(400);
      const bad = await bot.click('lead.won', { leadId: 'not-a-lead' }, alex);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('not a lead id');
      expect((await bot.store.leads.get(leadId))?.stage?.value).toBe('won');
    });
  });

  describe('21Vianet', () => {
    it('a tenant there is told the marketplace is not available', async () => {
      await bot.say('find security', wei);
      expect(bot.lastReply(wei)).toContain('not available in Office 365 operated by 21Vianet');
      expect((await bot.click('lead.request', { listingId: fabrikam.id }, wei)).text).toContain(
        'not available in Office 365 operated by 21Vianet',
      );
    });

    it('a partner there cannot publish and is never found', async () => {
      await bot.store.partners.upsert({
        tenantId: nestor.tenantId,
        name: 'Northwind Managed Services',
        programs: ['cloud-accelerate'],
        authorizedServices: ['intune-p1'],
        cloud: '21vianet',
      });
      await bot.say('listing publish', nestor);
      expect(bot.lastReply(nestor)).toContain('not available in Office 365 operated by 21Vianet');
      expect(foundHeadlines(await find('identity compliance', megan))).not.toContain(
        'Managed identity and device security with Entra ID and Intune',
      );
    });
  });
});
