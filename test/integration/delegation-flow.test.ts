import { addDays } from '../../src/clock';
import { verifyChain } from '../../src/store/chain';
import { channelMessage, conversationUpdate, installationUpdate, message } from '../support/activities';
import { alex, CUSTOMER_TENANT, grady, lee, megan, nestor, patti, SOVEREIGN_TENANT, wei, type TeamsUser } from '../support/people';
import { idIn, startTestBot, type TestBot } from '../support/test-bot';

/**
 * The whole delegated-admin story over real HTTP: two partner tenants (Fabrikam, Northwind) and one customer
 * tenant, with a connector sink standing in for Teams. Each step builds on the one before, as a person would.
 */
describe('delegated administration and partner of record over real HTTP', () => {
  let bot: TestBot;
  const active = (kind: 'delegation' | 'por') => bot.store.relationships.activeFor(CUSTOMER_TENANT, kind);

  beforeAll(async () => {
    bot = await startTestBot({ env: { SOVEREIGN_TENANTS: SOVEREIGN_TENANT } });
    bot.meet(alex, megan, lee, nestor, grady, patti, wei);
    for (const u of [alex, megan, nestor, grady, wei]) await bot.post(installationUpdate('add', u, bot.sink.url));
    await bot.post(conversationUpdate(lee, bot.sink.url));
  });
  afterAll(() => bot.close());

  describe('what a partner may ask for', () => {
    it.each([
      ['delegate admin@contoso.com roles Exchange Admin', 'Did you mean Exchange Administrator?'],
      ['delegate admin@contoso.com roles Global Administrator auto-extend', 'Auto-extend cannot be combined with Global Administrator'],
      ['delegate admin@contoso.com days 900', 'The duration is 1 to 730 days'],
      ['delegate alexw@example.com', 'alexw@example.com is in your own organisation'],
    ])('%s is refused with a message that says what to fix, and nothing is sent', async (text, expected) => {
      const before = bot.replyCount(megan);
      await bot.say(text, alex);
      expect(bot.lastReply(alex)).toContain(expected);
      await bot.drain();
      expect(bot.replyCount(megan)).toBe(before);
      expect(await bot.store.relationships.listByPartner(alex.tenantId, 10)).toHaveLength(0);
    });

    it('asks for the least-privileged roles when none are named, and for Global Administrator only when named', async () => {
      await bot.say('delegate admin@contoso.com days 30', alex);
      const reply = bot.lastReply(alex);
      const d = idIn('D', reply)!;
      for (const role of [
        'Global Reader',
        'Service Support Administrator',
        'Helpdesk Administrator',
        'User Administrator',
        'License Administrator',
      ])
        expect(reply).toContain(`**${role}**`);
      expect(reply).not.toMatch(/Global Administrator\*\*|Full administration/);
      await bot.drain();
      expect(bot.cardFor(megan, d)).toContain('**License Administrator**: Assign and remove product licences');
      // Not left waiting for the tests below.
      await bot.click('delegation.decline', { relationshipId: d }, megan);
    });

    it('is refused for a partner outside Cloud Essentials, Accelerate and Deployment', async () => {
      await bot.store.partners.upsert({
        tenantId: alex.tenantId,
        name: 'Fabrikam Cloud Partners',
        programs: [],
        authorizedServices: ['teams-essentials'],
        cloud: 'global',
      });
      await bot.say('delegate admin@contoso.com', alex);
      expect(bot.lastReply(alex)).toContain(
        'Delegated administration needs enrolment in Cloud Essentials, Cloud Accelerate or Cloud Deployment',
      );
      await bot.say('trial admin@contoso.com teams-essentials with admin', alex);
      expect(bot.lastReply(alex)).toContain('Delegated administration needs enrolment');
      expect(await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 10 })).toHaveLength(0);
      await bot.store.partners.upsert({
        tenantId: alex.tenantId,
        name: 'Fabrikam Cloud Partners',
        programs: ['cloud-essentials'],
        authorizedServices: ['teams-essentials', 'm365-business-premium'],
        cloud: 'global',
      });
    });

    it("is refused for partner staff who are not on the partner's admin-agent list", async () => {
      await bot.say('delegate admin@contoso.com roles User Administrator', grady);
      expect(bot.lastReply(grady)).toContain(
        "Only Northwind Managed Services' admin agents may ask customers for delegated administration",
      );
    });

    it('recognises an admin agent who asks in a team channel (email from their 1:1 chat)', async () => {
      const channel = {
        id: '19:northwind-general@thread.tacv2',
        name: 'General',
        teamId: '19:northwind-team@thread.tacv2',
        teamName: 'Northwind',
        tenantId: nestor.tenantId,
      };
      await bot.post(channelMessage('delegate someone-new@contoso.com roles User Administrator', nestor, bot.sink.url, channel));
      const replies = bot.sink.requests.filter((r) => r.method === 'POST' && r.conversationId.startsWith(channel.id));
      expect(bot.sink.textOf(replies.at(-1)!)).toContain('is waiting for someone-new@contoso.com to install Partner Offers');
    });
  });

  let fabrikamD: string;

  describe('a delegated-admin request, approved', () => {
    it('reaches the approver as a card that says what each role allows, for how long, and about Microsoft support', async () => {
      await bot.say('delegate admin@contoso.com roles Exchange Administrator, User Administrator days 365', alex);
      fabrikamD = idIn('D', bot.lastReply(alex))!;
      expect(bot.lastReply(alex)).toContain(`Delegated-admin request ${fabrikamD} sent to Megan Bowen`);
      await bot.drain();
      const card = bot.cardFor(megan, fabrikamD);
      expect(card).toContain('Fabrikam Cloud Partners asks for delegated administration');
      expect(card).toMatch(/\*\*Exchange Administrator\*\*: .+/);
      expect(card).toMatch(/\*\*User Administrator\*\*: .+/);
      expect(card).toContain('Duration: 365 days from approval');
      expect(card).toContain('At the end: Access ends; Fabrikam Cloud Partners has to ask again');
      expect(card).toContain('Answer by: 23 Feb 2027');
      expect(card).toContain('You can always contact Microsoft support directly');
      expect(card).toMatch(/\[Approve\][\s\S]*\[Decline\]/);
    });

    it('refuses a colleague who is not the approver, and records nothing', async () => {
      const res = await bot.click('delegation.approve', { relationshipId: fabrikamD, replaces: '' }, lee);
      expect(res.body.type).toBe('application/vnd.microsoft.activity.message');
      expect(res.text).toBe('Only Megan Bowen can answer this delegated-admin request.');
      expect(await bot.store.responses.forSubject(fabrikamD)).toHaveLength(0);
    });

    it('refuses a button of the wrong kind for the id, and data that is not an id', async () => {
      expect((await bot.click('por.accept', { relationshipId: fabrikamD }, megan)).body.statusCode).toBe(400);
      expect((await bot.click('delegation.approve', { relationshipId: { $ne: null } }, megan)).body.statusCode).toBe(400);
    });

    it('approve: consent recorded for 365 days, the card updates, the partner is told; a double click records once', async () => {
      const alexBefore = bot.replyCount(alex);
      const res = await bot.click('delegation.approve', { relationshipId: fabrikamD, replaces: '' }, megan);
      expect(res.text).toContain('Approved on 25 Nov 2026');
      expect(res.text).toContain('your consent is recorded');
      expect(res.text).not.toContain('[Approve]');
      const again = await bot.click('delegation.approve', { relationshipId: fabrikamD, replaces: '' }, megan);
      const decline = await bot.click('delegation.decline', { relationshipId: fabrikamD, reason_delegation: 'no' }, megan);
      expect(again.text).toContain('Approved on 25 Nov 2026');
      expect(decline.text).toContain('Approved on 25 Nov 2026');
      await bot.drain();
      expect(bot.repliesSince(alex, alexBefore)).toEqual([expect.stringContaining(`Megan Bowen approved ${fabrikamD}`)]);
      expect(bot.sink.textOf(bot.sink.updatesIn(megan.conversationId).at(-1)!)).toContain('Approved on 25 Nov 2026');
      const responses = await bot.store.responses.forSubject(fabrikamD);
      expect(responses).toEqual([
        expect.objectContaining({ slot: 'delegation', decision: 'approved', by: expect.objectContaining({ name: 'Megan Bowen' }) }),
      ]);
      expect((await active('delegation'))?.id).toBe(fabrikamD);
    });

    it('partners shows the customer its delegated-admin partner with dates', async () => {
      await bot.say('partners', megan);
      const reply = bot.lastReply(megan);
      expect(reply).toContain(
        `Fabrikam Cloud Partners (${fabrikamD}) is recorded here as your delegated-admin partner, with Exchange Administrator, User Administrator.`,
      );
      expect(reply).toContain('Approved: 25 Nov 2026');
      expect(reply).toContain('Consent until: 25 Nov 2027');
      expect(reply).toContain('You have not designated a partner of record');
    });
  });

  let northwindD: string;

  describe('a second partner replaces the first', () => {
    it('the new request names the current partner and the button reads "Replace <current partner>"', async () => {
      await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 180', nestor);
      northwindD = idIn('D', bot.lastReply(nestor))!;
      await bot.drain();
      const card = bot.cardFor(megan, northwindD);
      expect(card).toContain('Northwind Managed Services asks for delegated administration');
      expect(card).toContain('Fabrikam Cloud Partners is recorded here as your delegated-admin partner (since 25 Nov 2026)');
      expect(card).toContain('[Replace Fabrikam Cloud Partners]');
    });

    it('a card that did not know about the current partner is shown again, naming it, and nothing changes', async () => {
      const res = await bot.click('delegation.approve', { relationshipId: northwindD, replaces: '' }, megan);
      expect(res.body.type).toBe('application/vnd.microsoft.card.adaptive');
      expect(res.text).toContain('[Replace Fabrikam Cloud Partners]');
      expect(await bot.store.responses.forSubject(northwindD)).toHaveLength(0);
      expect((await active('delegation'))?.id).toBe(fabrikamD);
    });

    it('replace: the old relationship ends and the new one starts in one step (recorded), and both partners are told', async () => {
      const [alexBefore, nestorBefore] = [bot.replyCount(alex), bot.replyCount(nestor)];
      clockForward(1);
      const res = await bot.click('delegation.approve', { relationshipId: northwindD, replaces: fabrikamD }, megan);
      expect(res.text).toContain('Approved on 26 Nov 2026');
      expect(res.text).toContain('In this app it replaces Fabrikam Cloud Partners');
      await bot.drain();
      expect(bot.repliesSince(alex, alexBefore)).toEqual([
        expect.stringMatching(
          /Megan Bowen replaced you as delegated-admin partner[\s\S]*They chose Northwind Managed Services on 26 Nov 2026/,
        ),
      ]);
      expect(bot.repliesSince(nestor, nestorBefore)).toEqual([
        expect.stringMatching(
          new RegExp(`Megan Bowen approved ${northwindD}[\\s\\S]*This replaces Fabrikam Cloud Partners as their delegated admin`),
        ),
      ]);
      expect((await active('delegation'))?.id).toBe(northwindD);
      expect(await bot.store.relationships.get(fabrikamD)).toMatchObject({
        state: 'terminated',
        endReason: 'replaced',
        replacedBy: { id: northwindD },
      });
      expect((await bot.store.responses.forSubject(fabrikamD)).map((r) => `${r.slot}:${r.decision}`)).toEqual([
        'delegation:approved',
        'termination:replaced',
      ]);
      // Fabrikam's own card in the customer's chat now says it was replaced.
      expect(
        bot.sink
          .updatesIn(megan.conversationId)
          .map((u) => bot.sink.textOf(u))
          .join('\n'),
      ).toContain('Replaced on 26 Nov 2026 by Northwind Managed Services');
    });
  });

  let trialId: string;
  let attachedD: string;
  let porId: string;

  describe('requests attached to an offer, each decided on its own', () => {
    it('with admin and as partner of record put both requests on the trial card', async () => {
      await bot.say('trial admin@contoso.com teams-essentials with admin as partner of record', alex);
      trialId = idIn('T', bot.lastReply(alex))!;
      await bot.drain();
      const card = bot.cardFor(megan, trialId);
      attachedD = idIn('D', card)!;
      porId = idIn('R', card)!;
      expect(card).toMatch(
        /Fabrikam Cloud Partners invites you to try[\s\S]*\[Accept\][\s\S]*Delegated administration · D-[\s\S]*Global Reader[\s\S]*License Administrator[\s\S]*\[Replace Northwind Managed Services\][\s\S]*Partner of record · R-[\s\S]*\[Designate Fabrikam Cloud Partners\]/,
      );
    });

    it('accept the trial, decline admin access with a reason, designate the partner of record: three records', async () => {
      const alexBefore = bot.replyCount(alex);
      expect((await bot.click('offer.accept', { offerId: trialId }, megan)).text).toMatch(/Accepted on/);
      const declined = await bot.click(
        'delegation.decline',
        { relationshipId: attachedD, reason_delegation: 'Northwind manages us' },
        megan,
      );
      expect(declined.text).toMatch(
        /Accepted on[\s\S]*Delegated administration[\s\S]*Declined on 26 Nov 2026[\s\S]*\[Designate Fabrikam Cloud Partners\]/,
      );
      const designated = await bot.click('por.accept', { relationshipId: porId, replaces: '' }, megan);
      expect(designated.text).toContain('Designated on 26 Nov 2026');
      expect(designated.text).not.toMatch(/\[(Accept|Approve|Designate|Replace)/);
      await bot.drain();
      const notes = bot.repliesSince(alex, alexBefore).join('\n---\n');
      expect(notes).toContain(`Megan Bowen accepted ${trialId}`);
      expect(notes).toContain(`Megan Bowen declined ${attachedD}`);
      expect(notes).toContain('Their reason: "Northwind manages us"');
      expect(notes).toContain(`Megan Bowen designated you as partner of record (${porId})`);
      const slots = await Promise.all(
        [trialId, attachedD, porId].map(async (id) => (await bot.store.responses.forSubject(id)).map((r) => `${r.slot}:${r.decision}`)),
      );
      expect(slots).toEqual([['offer:accepted'], ['delegation:declined'], ['por:approved']]);
    });

    it('partner of record and delegated admin stay independent', async () => {
      expect((await active('delegation'))?.id).toBe(northwindD);
      expect((await active('por'))?.id).toBe(porId);
      await bot.say('partners', megan);
      expect(bot.lastReply(megan)).toMatch(
        /Northwind Managed Services \(D-\w+\) is recorded here as your delegated-admin partner[\s\S]*Fabrikam Cloud Partners \(R-\w+\) is recorded here as your partner of record/,
      );
      expect(verifyChain(await bot.store.responses.chain(CUSTOMER_TENANT))).toBe(true);
    });

    it('requests attached to an offer end with it when the partner withdraws the offer', async () => {
      await bot.say('offer admin@contoso.com 5 m365-business-premium monthly with admin', alex);
      const offerId = idIn('P', bot.lastReply(alex))!;
      await bot.drain();
      const d = idIn('D', bot.cardFor(megan, offerId))!;
      await bot.say(`withdraw ${offerId}`, alex);
      const res = await bot.click('delegation.approve', { relationshipId: d, replaces: '' }, megan);
      expect(res.text).toContain('Fabrikam Cloud Partners withdrew this request with its offer');
      expect(res.text).not.toContain('[Approve]');
      expect(await bot.store.responses.forSubject(d)).toHaveLength(0);
      expect((await bot.store.relationships.get(d))?.state).toBe('withdrawn');
      expect((await active('delegation'))?.id).toBe(northwindD);
    });

    it('a partner sees requests in status, and one of them with its recorded answers', async () => {
      await bot.say('status', alex);
      expect(bot.lastReply(alex)).toContain('Delegated administration and partner of record');
      await bot.say(`status ${attachedD.toLowerCase()}`, alex);
      expect(bot.lastReply(alex)).toMatch(
        new RegExp(`${attachedD}: Declined[\\s\\S]*declined by Megan Bowen \\(admin@contoso.com\\): "Northwind manages us"`),
      );
    });
  });

  describe('ending a relationship', () => {
    it('revoke admin asks for confirmation first, then records it and tells the partner; a second click changes nothing', async () => {
      await bot.say('revoke admin', megan);
      expect(bot.lastReply(megan)).toContain('Withdraw your consent to Northwind Managed Services?');
      expect(bot.lastReply(megan)).toContain('[Revoke consent to Northwind Managed Services]');
      expect((await active('delegation'))?.id).toBe(northwindD);
      const nestorBefore = bot.replyCount(nestor);
      const res = await bot.click('delegation.revoke', { relationshipId: northwindD }, megan);
      expect(res.text).toContain('Revoked on 26 Nov 2026');
      expect((await bot.click('delegation.revoke', { relationshipId: northwindD }, megan)).text).toContain('Revoked on 26 Nov 2026');
      await bot.drain();
      expect(bot.repliesSince(nestor, nestorBefore)).toEqual([expect.stringContaining(`Megan Bowen revoked ${northwindD}`)]);
      expect(await active('delegation')).toBeNull();
      expect((await bot.store.responses.forSubject(northwindD)).filter((r) => r.slot === 'termination')).toHaveLength(1);
      expect((await active('por'))?.id).toBe(porId);
    });

    it('"Keep it" changes nothing', async () => {
      await bot.say('delegate admin@contoso.com roles User Administrator days 30', alex);
      const d = idIn('D', bot.lastReply(alex))!;
      await bot.click('delegation.approve', { relationshipId: d, replaces: '' }, megan);
      expect((await bot.click('delegation.keep', { relationshipId: d }, megan)).text).toContain('Nothing changed');
      expect((await active('delegation'))?.id).toBe(d);
    });

    it('a partner revokes one it holds with delegate revoke, and the customer is told', async () => {
      const d = (await active('delegation'))!.id;
      const meganBefore = bot.replyCount(megan);
      await bot.say(`delegate revoke ${d}`, alex);
      expect(bot.lastReply(alex)).toContain(`${d} revoked`);
      await bot.drain();
      expect(bot.repliesSince(megan, meganBefore).join('\n')).toContain(`Fabrikam Cloud Partners revoked ${d}`);
      expect(await active('delegation')).toBeNull();
      await bot.say(`delegate revoke ${d}`, alex);
      expect(bot.lastReply(alex)).toContain(`${d} is revoked (recorded), so there is nothing to revoke.`);
      await bot.say(`delegate revoke ${northwindD}`, alex);
      expect(bot.lastReply(alex)).toContain(`Fabrikam Cloud Partners has no relationship ${northwindD}`);
    });

    it('revoke admin with nothing to revoke says so', async () => {
      await bot.say('revoke admin', megan);
      expect(bot.lastReply(megan)).toContain('there is nothing to revoke');
    });
  });

  describe('time', () => {
    it('reminds both sides 30, 7 and 1 days before the recorded consent ends, then ends it and tells both', async () => {
      await bot.say('delegate admin@contoso.com roles Reports Reader days 40', alex);
      const d = idIn('D', bot.lastReply(alex))!;
      const approvedAt = bot.clock.now;
      await bot.click('delegation.approve', { relationshipId: d, replaces: '' }, megan);
      await bot.drain();
      const [alexBefore, meganBefore] = [bot.replyCount(alex), bot.replyCount(megan)];
      for (const day of [5, 10, 11, 33, 39, 40]) {
        bot.clock.now = addDays(approvedAt, day);
        await bot.app.sweep();
      }
      await bot.drain();
      const heard = (as: TeamsUser, n: number) => bot.repliesSince(as, n).map((t) => t.split('\n')[1]);
      const told = [30, 7, 1]
        .map((n) => `${d}: recorded consent ends in ${n} day${n === 1 ? '' : 's'}`)
        .concat(`${d}: recorded consent ended`);
      expect(heard(alex, alexBefore)).toEqual(told);
      expect(heard(megan, meganBefore)).toEqual(told);
      expect(await bot.store.relationships.get(d)).toMatchObject({ state: 'expired', endReason: 'expired' });
    });

    it('a request nobody answers expires after 90 days; its card stops accepting clicks and says why', async () => {
      await bot.say('delegate admin@contoso.com roles Global Reader', alex);
      const d = idIn('D', bot.lastReply(alex))!;
      await bot.drain();
      const alexBefore = bot.replyCount(alex);
      bot.clock.now = addDays(bot.clock.now, 90);
      await bot.app.sweep();
      await bot.drain();
      expect(bot.repliesSince(alex, alexBefore)).toEqual([expect.stringContaining(`${d} expired without an answer`)]);
      const res = await bot.click('delegation.approve', { relationshipId: d, replaces: '' }, megan);
      expect(res.text).toContain('It was not answered within 90 days, so it can no longer be answered.');
      expect(res.text).not.toContain('[Approve]');
      expect(await bot.store.responses.forSubject(d)).toHaveLength(0);
    });
  });

  describe('an approver who has not installed the app yet', () => {
    it('gets the request when they install, and the partner hears it arrived', async () => {
      await bot.say('delegate patti@contoso.com roles Teams Administrator', alex);
      const d = idIn('D', bot.lastReply(alex))!;
      expect(bot.lastReply(alex)).toContain(`${d} is waiting for patti@contoso.com to install Partner Offers`);
      const alexBefore = bot.replyCount(alex);
      await bot.post(installationUpdate('add', patti, bot.sink.url));
      await bot.drain();
      expect(bot.cardFor(patti, d)).toContain('[Approve]');
      expect(bot.repliesSince(alex, alexBefore)).toEqual([expect.stringContaining(`${d} reached Patti Fernandez`)]);
      await bot.say('offers', patti);
      expect(bot.sink.textOf(bot.sink.sentTo(patti.conversationId).at(-1)!)).toContain(d);
    });

    it('an older client answers through the Action.Submit fallback, and the card is updated in place', async () => {
      const d = (await bot.store.relationships.listPendingFor({ tenantId: patti.tenantId, aadObjectId: patti.aadObjectId }))[0]!.id;
      const submit = {
        ...message('', patti, bot.sink.url),
        text: undefined,
        replyToId: 'card-9',
        value: { verb: 'delegation.decline', relationshipId: d, reason_delegation: 'Not now' },
      };
      expect((await bot.post(submit)).status).toBe(200);
      const update = bot.sink.updatesIn(patti.conversationId).find((u) => u.activityId === 'card-9')!;
      expect(bot.sink.textOf(update)).toMatch(/Declined on/);
      expect(await bot.store.responses.forSubject(d)).toEqual([expect.objectContaining({ decision: 'declined', comment: 'Not now' })]);
    });
  });

  describe('21Vianet', () => {
    it('a customer there is told partner features are not available; nothing is sent or recorded', async () => {
      await bot.say('partners', wei);
      expect(bot.lastReply(wei)).toContain('not available in Office 365 operated by 21Vianet');
      const res = await bot.click('delegation.approve', { relationshipId: fabrikamD, replaces: '' }, wei);
      expect(res.text).toContain('not available in Office 365 operated by 21Vianet');
      const before = (await bot.store.relationships.listByPartner(alex.tenantId, 100)).length;
      await bot.say('delegate wei@contoso.cn', alex);
      expect(bot.lastReply(alex)).toContain(
        'wei@contoso.cn is in Office 365 operated by 21Vianet, where partner features are not available, so nothing was sent.',
      );
      expect(await bot.store.relationships.listByPartner(alex.tenantId, 100)).toHaveLength(before);
    });

    it('an offer waiting for an approver in 21Vianet is not delivered when they install', async () => {
      const li = {
        ...wei,
        name: 'Li Na',
        aadObjectId: 'c0000000-0000-4000-8000-0000000021c2',
        id: '29:li',
        email: 'li@contoso.cn',
        conversationId: 'a:personal-li',
      };
      await bot.say('trial li@contoso.cn teams-essentials with admin', alex);
      const offerId = idIn('T', bot.lastReply(alex))!;
      bot.meet(li);
      await bot.post(installationUpdate('add', li, bot.sink.url));
      await bot.drain();
      expect(
        bot.sink
          .sentTo(li.conversationId)
          .map((r) => bot.sink.textOf(r))
          .join('\n'),
      ).not.toContain(offerId);
      expect((await bot.store.offers.get(offerId))?.state).toBe('awaitingDelivery');
    });

    it('a partner there is told the same', async () => {
      await bot.store.partners.upsert({
        tenantId: nestor.tenantId,
        name: 'Northwind Managed Services',
        programs: ['cloud-accelerate'],
        authorizedServices: ['teams-essentials'],
        cloud: '21vianet',
      });
      await bot.say('delegate admin@contoso.com', nestor);
      expect(bot.lastReply(nestor)).toContain('not available in Office 365 operated by 21Vianet');
      await bot.say('help', nestor);
      expect(bot.lastReply(nestor)).toContain('Partner Offers for Northwind Managed Services');
    });
  });

  /** Moves the test clock forward by whole days. */
  function clockForward(days: number) {
    bot.clock.now = addDays(bot.clock.now, days);
  }
});
