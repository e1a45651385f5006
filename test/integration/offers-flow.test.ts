import { cardAction, conversationUpdate, installationUpdate, message } from '../support/activities';
import { cardText } from '../support/connector-sink';
import { alex, lee, megan } from '../support/people';
import { idIn, startTestBot, type TestBot } from '../support/test-bot';

describe('offers over real HTTP: a partner tenant and a customer tenant', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan, lee);
  });
  afterAll(() => bot.close());

  let trialId: string;

  it('welcomes the partner user who installs the app', async () => {
    const res = await bot.post(installationUpdate('add', alex, bot.sink.url));
    expect(res.status).toBe(200);
    expect(bot.lastReply(alex)).toMatch(/Hi, I'm Partner Offers/);
  });

  it('tells the partner a trial waits for an approver who has not installed the app, with the install link', async () => {
    await bot.say('trial admin@contoso.com m365-business-premium, teams-essentials', alex);
    const reply = bot.lastReply(alex);
    expect(reply).toMatch(/is waiting for admin@contoso\.com to install Partner Offers/);
    const sent = bot.sink.sentTo(alex.conversationId);
    expect(JSON.stringify(bot.sink.cards(sent[sent.length - 1]!))).toContain('https://teams.microsoft.com/l/app/');
    trialId = idIn('[TP]', reply)!;
    expect(trialId).toMatch(/^T-/);
    expect((await bot.store.offers.get(trialId))?.state).toBe('awaitingDelivery');
  });

  it('delivers the waiting trial as soon as the approver installs the app, and tells the partner', async () => {
    await bot.post(installationUpdate('add', megan, bot.sink.url));
    await bot.drain();
    const cards = bot.sink.sentTo(megan.conversationId).map((r) => bot.sink.textOf(r));
    const offerCard = cards.find((t) => t.includes(trialId))!;
    expect(offerCard).toMatch(/Fabrikam Cloud Partners invites you/);
    expect(offerCard).toMatch(/Microsoft 365 Business Premium/);
    expect(offerCard).toMatch(/Microsoft Teams Essentials/);
    expect(offerCard).toMatch(/30-day free trial/);
    expect(offerCard).toMatch(/Please answer by 25 Dec 2026/);
    expect(offerCard).toMatch(/\[Accept\]/);
    expect(offerCard).toMatch(/\[Decline\]/);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`${trialId} reached Megan Bowen`));
    expect((await bot.store.offers.get(trialId))?.state).toBe('sent');
  });

  it('refuses a colleague who is not the approver, politely, and records nothing', async () => {
    await bot.post(conversationUpdate(lee, bot.sink.url));
    const res = await bot.click('offer.accept', { offerId: trialId }, lee);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('application/vnd.microsoft.activity.message');
    expect(res.body.value).toBe('Only Megan Bowen can answer this trial invitation.');
    expect(await bot.store.responses.forSubject(trialId)).toHaveLength(0);
  });

  it('records the approver accepting, updates the card for everyone and tells the partner 1:1', async () => {
    const cardMessage = bot.sink.sentTo(megan.conversationId).find((r) => bot.sink.textOf(r).includes(trialId))!;
    const res = await bot.click('offer.accept', { offerId: trialId }, megan, { replyToId: 'act-ignored' });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(res.text).toMatch(/Accepted on 25 Nov 2026/);
    expect(res.text).toMatch(/runs until 25 Dec 2026/);
    expect(res.text).not.toMatch(/\[Accept\]/);

    await bot.drain();
    const updates = bot.sink.updatesIn(megan.conversationId);
    expect(updates.map((u) => u.activityId)).toContain(cardMessage.body.id ?? updates[0]!.activityId);
    expect(bot.sink.textOf(updates[updates.length - 1]!)).toMatch(/Accepted on 25 Nov 2026/);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`Megan Bowen accepted ${trialId}`));
    expect(bot.lastReply(alex)).toMatch(/Set up the trial .* in Partner Center/);

    const [response] = await bot.store.responses.forSubject(trialId);
    expect(response).toMatchObject({
      decision: 'accepted',
      slot: 'offer',
      by: { name: 'Megan Bowen', upn: 'admin@contoso.com', tenantId: megan.tenantId },
    });
    expect((await bot.store.offers.get(trialId))?.state).toBe('accepted');
  });

  it('changes nothing on a second click, a retried invoke or a Decline from another device', async () => {
    const before = bot.sink.requests.length;
    const again = await bot.click('offer.accept', { offerId: trialId }, megan);
    const decline = await bot.click('offer.decline', { offerId: trialId, reason: 'changed my mind' }, megan);
    for (const r of [again, decline]) {
      expect(r.body.type).toBe('application/vnd.microsoft.card.adaptive');
      expect(r.text).toMatch(/Accepted on 25 Nov 2026/);
    }
    await bot.drain();
    expect(await bot.store.responses.forSubject(trialId)).toHaveLength(1);
    expect(bot.sink.requests.length).toBe(before);
  });

  let purchaseId: string;

  it('sends a purchase offer straight to an approver who has the app, with prices and totals', async () => {
    await bot.say('offer admin@contoso.com 25 m365-business-premium, 10 exchange-online-p1 annual', alex);
    const confirmation = bot.lastReply(alex);
    purchaseId = idIn('[TP]', confirmation)!;
    expect(confirmation).toMatch(new RegExp(`Purchase offer ${purchaseId} sent to Megan Bowen`));
    await bot.drain();
    const card = bot.sink.textOf(bot.sink.sentTo(megan.conversationId).find((r) => bot.sink.textOf(r).includes(purchaseId))!);
    expect(card).toContain(
      'Microsoft 365 Business Premium\n25 × $264.00 per licence per year\n1-year term, billed annually\n$6,600.00 per year',
    );
    expect(card).toContain('10 × $48.00 per licence per year\n1-year term, billed annually\n$480.00 per year');
    expect(card).toMatch(/Total per year\n\$7,080\.00/);
    expect(card).toMatch(/billed annually/);
  });

  it('does not send an identical pending offer twice: the partner gets the existing id', async () => {
    await bot.say('offer ADMIN@contoso.com 25 m365-business-premium, 10 exchange-online-p1 annual', alex);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`You already sent this: ${purchaseId}`));
    expect(
      (await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 50 })).filter((o) => o.kind === 'purchase'),
    ).toHaveLength(1);
  });

  it('records a decline with its reason and passes the reason to the partner', async () => {
    const res = await bot.click('offer.decline', { offerId: purchaseId, reason: 'Budget is frozen until April' }, megan);
    expect(res.text).toMatch(/Declined on 25 Nov 2026/);
    await bot.drain();
    expect(bot.lastReply(alex)).toMatch(new RegExp(`Megan Bowen declined ${purchaseId}`));
    expect(bot.lastReply(alex)).toMatch(/Their reason: "Budget is frozen until April"/);
  });

  it('answers mistakes with a card that says what is wrong and shows an example', async () => {
    await bot.say('trial admin@contoso.com m365-busines-premium', alex);
    expect(bot.lastReply(alex)).toMatch(/I don't know the service "m365-busines-premium"\. Did you mean m365-business-premium/);
    expect(bot.lastReply(alex)).toMatch(/For example:\ntrial admin@contoso\.com m365-business-premium, teams-essentials/);
    await bot.say('offer admin@contoso.com 900 m365-business-premium monthly', alex);
    expect(bot.lastReply(alex)).toMatch(/Microsoft 365 Business Premium is sold in quantities of 1 to 300; you asked for 900/);
    await bot.say('offr admin@contoso.com', alex);
    expect(bot.lastReply(alex)).toMatch(/I don't know "offr"\. Did you mean offer\?/);
    await bot.say('trial admin@contoso.com m365-business-premium', megan);
    expect(bot.lastReply(megan)).toMatch(/trial is for partner organisations registered with this bot/);
  });

  it('shows the partner status, one offer with its recorded answers, one customer, and customers', async () => {
    await bot.say('status', alex);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`${trialId}[\\s\\S]*Accepted`));
    await bot.say(`status ${trialId.toLowerCase()}`, alex);
    expect(bot.lastReply(alex)).toMatch(/Recorded answers\n.*accepted by Megan Bowen \(admin@contoso\.com\)/);
    await bot.say('status admin@contoso.com', alex);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`Offers to admin@contoso\\.com[\\s\\S]*${purchaseId}[\\s\\S]*Declined`));
    await bot.say('customers', alex);
    expect(bot.lastReply(alex)).toMatch(/admin@contoso\.com\n2 offers: 0 waiting, 1 accepted/);
  });

  it('lets the partner withdraw a pending offer; the customer card then says so', async () => {
    await bot.say('trial admin@contoso.com copilot-m365', alex);
    const id = idIn('[TP]', bot.lastReply(alex))!;
    await bot.drain();
    await bot.say(`withdraw ${id}`, alex);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`${id} withdrawn`));
    await bot.drain();
    const updates = bot.sink.updatesIn(megan.conversationId);
    expect(bot.sink.textOf(updates[updates.length - 1]!)).toMatch(/Fabrikam Cloud Partners withdrew this trial invitation/);
    const late = await bot.click('offer.accept', { offerId: id }, megan);
    expect(late.text).toMatch(/withdrew this trial invitation/);
    expect(await bot.store.responses.forSubject(id)).toHaveLength(0);
    await bot.say(`withdraw ${id}`, alex);
    expect(bot.lastReply(alex)).toMatch(/is already withdrawn, so there is nothing to withdraw/);
  });

  it('gives customers offers, support and help', async () => {
    await bot.say('trial admin@contoso.com intune-p1', alex);
    await bot.drain();
    const before = bot.replyCount(megan);
    await bot.say('offers', megan);
    const [intro, card] = bot.repliesSince(megan, before);
    expect(intro).toMatch(/1 offer is waiting for your answer/);
    expect(card).toMatch(/Microsoft Intune Plan 1/);
    await bot.say('support', megan);
    expect(bot.lastReply(megan)).toMatch(/contact Microsoft support yourself/);
    await bot.say('help', megan);
    expect(bot.lastReply(megan)).toMatch(/offers\nTrial invitations, purchase offers and requests waiting for your answer/);
    expect(bot.lastReply(megan)).not.toMatch(/withdraw/);
  });

  it('a copy of the card posted by offers changes with the offer: withdrawn, its buttons are gone there too', async () => {
    await bot.say('trial admin@contoso.com exchange-online-p1', alex);
    const id = idIn('[TP]', bot.lastReply(alex))!;
    await bot.drain();
    await bot.say('offers', megan);
    const copy = bot.sink.sentTo(megan.conversationId).at(-1)!;
    expect(bot.sink.textOf(copy)).toContain(id);
    expect(bot.sink.textOf(copy)).toContain('[Accept]');
    const copyId = (await bot.store.offers.get(id))!.copies!.at(-1)!.activityId;

    await bot.say(`withdraw ${id}`, alex);
    await bot.drain();
    const updates = bot.sink.updatesIn(megan.conversationId).filter((u) => u.activityId === copyId);
    expect(updates).toHaveLength(1);
    expect(bot.sink.textOf(updates[0]!)).toMatch(/withdrew this trial invitation/);
    expect(bot.sink.textOf(updates[0]!)).not.toContain('[Accept]');
    // The original card was updated as well.
    const original = (await bot.store.offers.get(id))!.card!.activityId;
    expect(bot.sink.updatesIn(megan.conversationId).some((u) => u.activityId === original)).toBe(true);
  });

  it('expires offers at their expiry date: the buttons stop working and say why', async () => {
    await bot.say('trial admin@contoso.com defender-business', alex);
    const id = idIn('[TP]', bot.lastReply(alex))!;
    await bot.drain();
    bot.clock.now = new Date(bot.clock.now.getTime() + 31 * 86_400_000);
    const res = await bot.click('offer.accept', { offerId: id }, megan);
    expect(res.text).toMatch(/This trial invitation expired on 25 Dec 2026/);
    expect(res.text).not.toMatch(/\[Accept\]/);
    expect((await bot.store.offers.get(id))?.state).toBe('expired');
    await bot.drain();
    expect(bot.lastReply(alex)).toMatch(new RegExp(`${id} expired without an answer`));
  });

  it('answers a malformed card action with a readable error, not a crash', async () => {
    const unknown = await bot.click('offer.explode', { offerId: trialId }, megan);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ type: 'application/vnd.microsoft.error', value: { code: 'UnknownVerb' } });
    const bad = await bot.click('offer.accept', { offerId: { $gt: '' } }, megan);
    expect(bad.status).toBe(400);
    expect((bad.body.value as { message: string }).message).toMatch(/card's data is not valid: offerId/);
  });

  describe('requests attached to an offer, as the partner sees them', () => {
    it('shows every part with its id, state and recorded answers in the confirmation and in status', async () => {
      await bot.say('trial admin@contoso.com m365-business-premium with admin as partner of record', alex);
      const confirmation = bot.lastReply(alex);
      const trialId = idIn('T', confirmation)!;
      const d = idIn('D', confirmation)!;
      const r = idIn('R', confirmation)!;
      expect([trialId, d, r]).toEqual([expect.stringMatching(/^T-/), expect.stringMatching(/^D-/), expect.stringMatching(/^R-/)]);
      expect(confirmation).toMatch(
        new RegExp(
          `Delegated administration · ${d}[\\s\\S]*Waiting for an answer[\\s\\S]*Partner of record · ${r}[\\s\\S]*Waiting for an answer`,
        ),
      );

      await bot.drain();
      expect(idIn('D', bot.cardFor(megan, trialId))).toBe(d);
      await bot.click('offer.accept', { offerId: trialId }, megan);
      await bot.click('delegation.decline', { relationshipId: d, reason_delegation: 'Not now' }, megan);
      await bot.click('por.accept', { relationshipId: r, replaces: '' }, megan);

      await bot.say(`status ${trialId}`, alex);
      expect(bot.lastReply(alex)).toMatch(
        new RegExp(
          [
            `${trialId}: Accepted`,
            'accepted by Megan Bowen \\(admin@contoso.com\\)',
            `Delegated administration · ${d}`,
            'Status: Declined',
            'declined by Megan Bowen \\(admin@contoso.com\\): "Not now"',
            `Partner of record · ${r}`,
            'Status: Designated \\(recorded\\)',
            'approved by Megan Bowen \\(admin@contoso.com\\)',
          ].join('[\\s\\S]*'),
        ),
      );
    });
  });
});

describe('with an app id configured', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot({
      env: {
        MicrosoftAppId: '11111111-2222-3333-4444-555555555555',
        MicrosoftAppPassword: 'not-a-real-secret',
        MicrosoftAppType: 'MultiTenant',
      },
    });
  });
  afterAll(() => bot.close());

  it('rejects requests without a valid Bot Framework token and does nothing', async () => {
    const none = await bot.post(message('trial admin@contoso.com teams-essentials', alex, bot.sink.url));
    expect(none.status).toBe(401);
    const forged = await bot.post(message('help', alex, bot.sink.url), { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' });
    expect(forged.status).toBe(401);
    expect(bot.sink.requests).toHaveLength(0);
    expect(await bot.store.conversations.get(alex.conversationId)).toBeNull();
  });
});

describe('conversations over time', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
  });
  afterAll(() => bot.close());

  it('holds offers for an approver who uninstalled the app, and delivers them when they reinstall', async () => {
    await bot.post(installationUpdate('add', megan, bot.sink.url));
    await bot.post(installationUpdate('remove', megan, bot.sink.url));
    expect(await bot.store.conversations.get(megan.conversationId)).toMatchObject({ active: false, inactiveReason: 'uninstalled' });

    await bot.say('trial admin@contoso.com teams-premium', alex);
    expect(bot.lastReply(alex)).toMatch(/waiting for admin@contoso\.com to install Partner Offers/);

    await bot.post(installationUpdate('add', megan, bot.sink.url));
    await bot.drain();
    expect(
      bot.sink
        .sentTo(megan.conversationId)
        .map((r) => bot.sink.textOf(r))
        .join('\n'),
    ).toMatch(/Microsoft Teams Premium/);
  });

  it('answers Teams automatic card refresh with the current card and writes nothing', async () => {
    const offer = (await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 1 }))[0]!;
    const before = bot.sink.requests.length;
    const res = await bot.post(cardAction('offer.view', { offerId: offer.id }, megan, bot.sink.url, { trigger: 'automatic' }));
    expect((res.body as { type: string }).type).toBe('application/vnd.microsoft.card.adaptive');
    expect(cardText((res.body as { value: unknown }).value)).toMatch(/\[Accept\]/);
    await bot.drain();
    expect(bot.sink.requests.length).toBe(before);
    expect(await bot.store.outbox.forSubject(offer.id)).toHaveLength(2);
  });

  it('handles the Action.Submit fallback of older clients like the button itself', async () => {
    const offer = (await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 1 }))[0]!;
    const submit = {
      ...message('', megan, bot.sink.url),
      text: undefined,
      replyToId: 'card-1',
      value: { verb: 'offer.decline', offerId: offer.id, reason: 'Not now' },
    };
    await bot.post(submit);
    const update = bot.sink.updatesIn(megan.conversationId).find((u) => u.activityId === 'card-1')!;
    expect(bot.sink.textOf(update)).toMatch(/Declined on/);
    expect(await bot.store.responses.forSubject(offer.id)).toEqual([expect.objectContaining({ decision: 'declined', comment: 'Not now' })]);
  });

  it('reaches a partner user 1:1 even when they only ever wrote in a team channel', async () => {
    const channelConversation = '19:fabrikam-general@thread.tacv2';
    const inChannel = {
      ...message(
        '<at>Partner Offers</at> trial admin@contoso.com intune-p1',
        { ...alex, aadObjectId: 'channel-only-user', id: '29:sam', name: 'Sam Channel' },
        bot.sink.url,
      ),
      conversation: { id: channelConversation, conversationType: 'channel', tenantId: alex.tenantId },
      entities: [{ type: 'mention', text: '<at>Partner Offers</at>', mentioned: { id: '28:partner-offers', name: 'Partner Offers' } }],
    };
    await bot.post(inChannel);
    const reply = bot.lastReply({ conversationId: channelConversation });
    const id = idIn('T', reply);
    expect(reply).toMatch(/Trial invitation T-\w+ sent to Megan Bowen/);
    await bot.drain();
    await bot.post(cardAction('offer.accept', { offerId: id }, megan, bot.sink.url));
    await bot.drain();
    const created = bot.sink.requests.filter((r) => r.method === 'CREATE');
    expect(created).toHaveLength(1);
    expect(created[0]!.body).toMatchObject({ isGroup: false, members: [{ id: '29:sam' }], tenantId: alex.tenantId });
    expect(bot.sink.textOf(bot.sink.sentTo(created[0]!.conversationId)[0]!)).toMatch(new RegExp(`Megan Bowen accepted ${id}`));
  });
});

describe('service names typed the way people say them', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    await bot.post(installationUpdate('add', megan, bot.sink.url));
  });
  afterAll(() => bot.close());

  it('issues a trial for part of a name that fits one service, under its full name', async () => {
    await bot.say('trial admin@contoso.com Business Premium', alex);
    const reply = bot.lastReply(alex);
    expect(reply).toMatch(/Trial invitation T-\w+ sent to Megan Bowen/);
    const offer = (await bot.store.offers.get(idIn('T', reply)!))!;
    expect(offer.lines).toEqual([
      expect.objectContaining({ serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium' }),
    ]);
    await bot.drain();
    expect(bot.sink.textOf(bot.sink.sentTo(megan.conversationId).find((r) => bot.sink.textOf(r).includes(offer.id))!)).toMatch(
      /Microsoft 365 Business Premium/,
    );
  });

  it('asks which one when the words fit several, listing them by name and id, and sends nothing', async () => {
    const before = (await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 50 })).length;
    await bot.say('trial admin@contoso.com business', alex);
    const reply = bot.lastReply(alex);
    expect(reply).toMatch(/Which service\?/);
    expect(reply).toMatch(/"business" fits 6 services/);
    for (const line of [
      'Microsoft 365 Business Basic: m365-business-basic',
      'Microsoft 365 Business Standard: m365-business-standard',
      'Microsoft 365 Business Premium: m365-business-premium',
    ]) {
      expect(reply).toContain(line);
    }
    expect(reply).toContain('trial ‹customer-email› m365-business-basic');
    expect(await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 50 })).toHaveLength(before);
  });
});

describe('purchase offers on a term and billing of their own, over real HTTP', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.say('help', u);
  });
  afterAll(() => bot.close());

  /** The card the customer received for the offer whose id the partner's last reply names. */
  const customerCard = async () => {
    const id = idIn('[TP]', bot.lastReply(alex))!;
    await bot.drain();
    return { id, card: bot.sink.textOf(bot.sink.sentTo(megan.conversationId).find((r) => bot.sink.textOf(r).includes(id))!) };
  };

  it('sends a 3-year term billed monthly: the customer reads the term, the price per licence per month, the totals', async () => {
    await bot.say('offer admin@contoso.com 20 m365-business-premium, 5 Microsoft 365 E3 term 3 years billing monthly', alex);
    expect(bot.lastReply(alex)).toMatch(
      /Purchase offer P-\w{6} sent to Megan Bowen[\s\S]*Kind: Purchase offer \(3-year term, billed monthly\)/,
    );
    const { id, card } = await customerCard();
    expect(card).toContain('Hello Megan Bowen, this offer commits you for 3 years (a 3-year term, billed monthly):');
    expect(card).toContain(
      'Microsoft 365 Business Premium\n20 × $22.00 per licence per month\n3-year term, billed monthly\n$440.00 per month',
    );
    expect(card).toContain('Microsoft 365 E3\n5 × $36.00 per licence per month\n3-year term, billed monthly\n$180.00 per month');
    expect(card).toContain('Total per month\n$620.00');
    expect(card).toContain('Over the whole 3-year term: $22,320.00.');
    expect(await bot.store.offers.get(id)).toMatchObject({
      term: 'P3Y',
      billing: 'monthly',
      lines: [
        { serviceId: 'm365-business-premium', quantity: 20, unitPriceCents: 2200 },
        { serviceId: 'm365-e3', quantity: 5, unitPriceCents: 3600 },
      ],
    });
  });

  it('sends month to month at the 1-month term list price, 20% over the 1-year term', async () => {
    await bot.say('offer admin@contoso.com 20 m365-business-premium monthly', alex);
    const { id, card } = await customerCard();
    expect(card).toContain('runs month to month (a 1-month term, billed monthly)');
    expect(card).toContain(
      'Microsoft 365 Business Premium\n20 × $26.40 per licence per month\n1-month term, billed monthly\n$528.00 per month',
    );
    expect(await bot.store.offers.get(id)).toMatchObject({ term: 'P1M', billing: 'monthly' });
  });

  it('is not fooled by the same services on another term: that is another offer, not a duplicate', async () => {
    await bot.say('offer admin@contoso.com 20 m365-business-premium term 1 year billing monthly', alex);
    expect(bot.lastReply(alex)).toMatch(/Purchase offer P-\w{6} sent to Megan Bowen/);
    await bot.say('offer admin@contoso.com 20 m365-business-premium term 1 year billing monthly', alex);
    expect(bot.lastReply(alex)).toMatch(/You already sent this/);
  });

  it('refuses a term or billing that cannot be, saying what is allowed, and sends nothing', async () => {
    const before = (await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 50 })).length;
    await bot.say('offer admin@contoso.com 5 m365-business-premium term 1 month billing annual', alex);
    expect(bot.lastReply(alex)).toMatch(/A 1-month term cannot be billed annually: it is billed monthly/);
    expect(bot.lastReply(alex)).toMatch(/For example:\noffer admin@contoso\.com 25 m365-business-premium term 1 year billing monthly/);
    await bot.say('offer admin@contoso.com 5 copilot-m365 monthly', alex);
    expect(bot.lastReply(alex)).toMatch(/Microsoft 365 Copilot is not sold on a 1-month term\. It is sold on a 1-year term\./);
    expect(bot.lastReply(alex)).toMatch(/offer ‹customer-email› 5 copilot-m365 term 1 year billing monthly/);
    await bot.say('offer admin@contoso.com 5 exchange-online-p1 term 3 years billing annual', alex);
    expect(bot.lastReply(alex)).toMatch(
      /Exchange Online \(Plan 1\) is not sold on a 3-year term\. It is sold on 1-month and 1-year terms\./,
    );
    expect(await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 50 })).toHaveLength(before);
  });
});
