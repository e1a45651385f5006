import { gzipSync } from 'node:zlib';
import { cardAction, message } from '../support/activities';
import { alex, lee, mallory, megan, type TeamsUser } from '../support/people';
import { rawPost } from '../support/raw-http';
import { startTestBot, type InvokeBody, type TestBot } from '../support/test-bot';

describe('the HTTP edge refuses what is not a Bot Framework activity, and stays up', () => {
  let bot: TestBot;
  const json = { 'content-type': 'application/json' };
  const alive = async () => (await fetch(`${bot.url}/healthz`)).status;

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan, lee, mallory);
  });
  afterAll(() => bot.close());

  it('answers a body marked gzip that is not gzip with 415, and keeps running', async () => {
    const res = await rawPost(bot.url, Buffer.from('not gzip'), { ...json, 'content-encoding': 'gzip' });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.text).error.code).toBe('UnsupportedEncoding');
    expect(await alive()).toBe(200);
  });

  it('refuses a small gzip body that would inflate to 64 MB without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const res = await rawPost(bot.url, bomb, { ...json, 'content-encoding': 'gzip' });
    expect(res.status).toBe(415);
    expect(await alive()).toBe(200);
  });

  it('refuses a plain body over 256 KB with 413', async () => {
    const big = Buffer.from(JSON.stringify({ ...message('help', alex, bot.sink.url), text: 'x'.repeat(300 * 1024) }));
    const res = await rawPost(bot.url, big, json);
    expect(res.status).toBe(413);
  });

  it('refuses bodies that are not JSON activities with 4xx and a reason, never 5xx', async () => {
    const cases: Array<[string, Buffer, Record<string, string>, number, RegExp]> = [
      ['an empty object', Buffer.from('{}'), json, 400, /type is missing/],
      ['a numeric type', Buffer.from('{"type":5}'), json, 400, /type must be a string/],
      ['an array', Buffer.from('[1]'), json, 400, /must be a JSON object/],
      ['null', Buffer.from('null'), json, 400, /must be a JSON object/],
      [
        'invalid UTF-8',
        Buffer.concat([Buffer.from('{"type":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
        json,
        400,
        /channelId is missing/,
      ],
      ['not JSON at all', Buffer.from('{bad'), json, 400, /JSON/],
      ['plain text', Buffer.from('hello'), { 'content-type': 'text/plain' }, 415, /application\/json/],
      ['a form', Buffer.from('type=message'), { 'content-type': 'application/x-www-form-urlencoded' }, 415, /application\/json/],
    ];
    for (const [what, body, headers, status, reason] of cases) {
      const res = await rawPost(bot.url, body, headers);
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(res.text).toMatch(reason);
      expect(res.text).not.toMatch(/at .*\.js:\d+/);
    }
    expect(await alive()).toBe(200);
  });

  it('refuses activities with missing or mistyped fields at the edge, before any turn runs', async () => {
    const base = message('help', alex, bot.sink.url);
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['no serviceUrl', { ...base, serviceUrl: undefined }, /serviceUrl is missing/],
      ['a numeric serviceUrl', { ...base, serviceUrl: 5 }, /serviceUrl must be a string/],
      ['a relative serviceUrl', { ...base, serviceUrl: '/connector' }, /serviceUrl: must be an absolute http\(s\) URL/],
      ['a file: serviceUrl', { ...base, serviceUrl: 'file:///etc/passwd' }, /serviceUrl: must be an absolute/],
      ['no from', { ...base, from: undefined }, /from is missing/],
      ['no recipient', { ...base, recipient: undefined }, /recipient is missing/],
      ['a numeric text', { ...base, text: 42 }, /text must be a string/],
      ['null entities', { ...base, entities: null }, /entities must be an array/],
      ['an object as aadObjectId', { ...base, from: { ...base.from, aadObjectId: {} } }, /from.aadObjectId must be a string/],
      ['an object as tenant id', { ...base, channelData: { tenant: { id: { $ne: '' } } } }, /channelData.tenant.id must be a string/],
      [
        'a mention of nobody',
        { ...base, entities: [{ type: 'mention', text: '<at>x</at>' }] },
        /entities.0: a mention needs mentioned.id and text/,
      ],
    ];
    bot.sink.clear();
    for (const [what, activity, reason] of cases) {
      const res = await bot.post(activity);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expect(JSON.stringify(res.body)).toMatch(reason);
    }
    // Nothing reached a turn: no reply was sent and no conversation was recorded for these.
    expect(bot.sink.requests).toHaveLength(0);
  });

  it('takes JSON null as absent where Teams may leave a field out', async () => {
    const res = await bot.post({
      ...message('help', alex, bot.sink.url),
      replyToId: null,
      textFormat: null,
      from: { id: alex.id, name: null, aadObjectId: alex.aadObjectId },
    });
    expect(res.status).toBe(200);
  });

  it('answers invokes this app does not declare with 501 in the invoke error shape, whatever their value', async () => {
    for (const [name, value] of [
      ['fileConsent/invoke', null],
      ['composeExtension/submitAction', { data: 5 }],
      [undefined, {}],
      ['task/fetch', 'x'],
    ] as const) {
      const res = await bot.post({ ...cardAction('offer.view', {}, alex, bot.sink.url), name, value });
      expect(res.status).toBe(501);
      expect((res.body as InvokeBody).type).toBe('application/vnd.microsoft.error');
    }
  });

  it('answers a malformed card action in the invoke error shape with 400', async () => {
    const base = cardAction('offer.view', { offerId: 'T-AAAAAA' }, alex, bot.sink.url);
    for (const value of [
      {},
      { action: 'x' },
      { action: { type: 'Action.Execute' } },
      { action: { type: 'Action.Submit', verb: 'offer.view' } },
      null,
    ]) {
      const res = await bot.post({ ...base, value });
      expect(res.status).toBe(400);
      const body = res.body as InvokeBody;
      expect(body.type).toBe('application/vnd.microsoft.error');
      expect(body.value.message).toMatch(/not one I understand/);
    }
    const noServiceUrl = await bot.post({ ...base, serviceUrl: undefined });
    expect(noServiceUrl.status).toBe(400);
    expect((noServiceUrl.body as InvokeBody).type).toBe('application/vnd.microsoft.error');
  });
});

describe('a turn whose connector does not answer ends quickly', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot({ turnSendTimeoutMs: 300 });
    bot.meet(alex);
  });
  afterAll(() => bot.close());

  it('answers the request at once when the serviceUrl refuses connections (no hidden resends)', async () => {
    const started = Date.now();
    const res = await bot.post(message('help', alex, 'http://127.0.0.1:1/'));
    expect(res.status).toBe(200);
    // The connector client's own retry policy used to resend three times with backoff: 20 s and more.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('gives up on a connector that takes the request and never answers, well before Teams redelivers', async () => {
    bot.sink.onRequest((r) => (r.method === 'POST' ? { hang: true } : undefined));
    try {
      const started = Date.now();
      const res = await bot.say('help', alex);
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000);
      // One attempt at the reply; after it timed out the turn sent nothing more (no apology into the same void).
      expect(bot.sink.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    } finally {
      bot.sink.onRequest();
    }
  });
});

describe('card actions check who is asking', () => {
  let bot: TestBot;
  let trialId: string;
  let delegationId: string;
  /** What an unknown id of the same kind is answered with, the id itself replaced so answers can be compared. */
  const asUnknown = async (verb: string, field: string, id: string, as: TeamsUser) => {
    const unknown = `${id[0]}-ZZZZZZ`;
    const res = await bot.click(verb, { [field]: unknown }, as);
    return { status: res.status, body: JSON.parse(JSON.stringify(res.body).replaceAll(unknown, id)) as InvokeBody };
  };

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan, lee, mallory);
    for (const u of [alex, megan, lee, mallory]) await bot.say('help', u);
    await bot.sayLater('trial admin@contoso.com m365-business-premium', alex);
    trialId = bot.lastIdSentTo('T', alex);
    await bot.sayLater('delegate admin@contoso.com roles Exchange Administrator days 30', alex);
    delegationId = bot.lastIdSentTo('D', alex);
  });
  afterAll(() => bot.close());

  it('shows an offer card to its approver, and to a third tenant exactly as an unknown id', async () => {
    expect((await bot.click('offer.view', { offerId: trialId }, megan, { trigger: 'automatic' })).text).toMatch(
      /Fabrikam Cloud Partners invites you/,
    );
    const foreign = await bot.click('offer.view', { offerId: trialId }, mallory, { trigger: 'automatic' });
    expect(foreign.text).not.toMatch(/Business Premium|Megan|contoso/i);
    expect({ status: foreign.status, body: foreign.body }).toEqual(await asUnknown('offer.view', 'offerId', trialId, mallory));
  });

  it("does not show the customer's card to a colleague of the approver, nor to the partner (which follows it with status)", async () => {
    for (const who of [lee, alex]) {
      const res = await bot.click('offer.view', { offerId: trialId }, who, { trigger: 'automatic' });
      expect({ status: res.status, body: res.body }).toEqual(await asUnknown('offer.view', 'offerId', trialId, who));
    }
  });

  it("shows a delegated-admin request only to its approver: the requesting partner never learns the customer's current partner", async () => {
    expect((await bot.click('delegation.view', { relationshipId: delegationId }, megan, { trigger: 'automatic' })).text).toMatch(
      /Exchange Administrator/,
    );
    for (const who of [mallory, lee, alex]) {
      const res = await bot.click('delegation.view', { relationshipId: delegationId }, who, { trigger: 'automatic' });
      expect({ status: res.status, body: res.body }).toEqual(await asUnknown('delegation.view', 'relationshipId', delegationId, who));
    }
  });

  it("answers a third tenant's decision as an unknown id, without naming the approver; a colleague is told who may answer", async () => {
    const foreign = await bot.click('offer.accept', { offerId: trialId }, mallory);
    expect(foreign.text).not.toMatch(/Megan|Bowen|contoso/i);
    expect({ status: foreign.status, body: foreign.body }).toEqual(await asUnknown('offer.accept', 'offerId', trialId, mallory));
    const foreignDelegation = await bot.click('delegation.approve', { relationshipId: delegationId }, mallory);
    expect(foreignDelegation.text).not.toMatch(/Megan|Bowen/);
    expect({ status: foreignDelegation.status, body: foreignDelegation.body }).toEqual(
      await asUnknown('delegation.approve', 'relationshipId', delegationId, mallory),
    );
    expect((await bot.click('offer.accept', { offerId: trialId }, lee)).text).toMatch(/Only Megan Bowen can answer this trial invitation/);
    expect(await bot.store.responses.forSubject(trialId)).toHaveLength(0);
  });

  it('never records a decision sent as an automatic refresh, even by the approver', async () => {
    const res = await bot.click('offer.accept', { offerId: trialId }, megan, { trigger: 'automatic' });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('application/vnd.microsoft.error');
    expect(res.body.value.message).toMatch(/refresh cannot answer/);
    const approve = await bot.click('delegation.approve', { relationshipId: delegationId }, megan, { trigger: 'automatic' });
    expect(approve.status).toBe(400);
    expect((await bot.store.offers.get(trialId))?.state).toBe('sent');
    expect(await bot.store.responses.forSubject(trialId)).toHaveLength(0);
    expect((await bot.store.relationships.get(delegationId))?.state).toBe('approvalPending');
    // The same click, pressed, is recorded.
    expect((await bot.click('offer.accept', { offerId: trialId }, megan)).text).toMatch(/accepted/i);
    expect(await bot.store.responses.forSubject(trialId)).toHaveLength(1);
  });

  it('refuses a revoke or keep from outside the customer exactly as an unknown id', async () => {
    for (const verb of ['delegation.revoke', 'delegation.keep']) {
      const res = await bot.click(verb, { relationshipId: delegationId }, mallory);
      expect({ status: res.status, body: res.body }).toEqual(await asUnknown(verb, 'relationshipId', delegationId, mallory));
    }
  });
});

describe('text one party wrote is shown to the other as typed, never as live markdown', () => {
  let bot: TestBot;
  const planted = 'See [Microsoft sign-in](https://login.example.net/steal) **now**';
  const escaped = 'See \\[Microsoft sign-in\\](https://login.example.net/steal) \\*\\*now\\*\\*';
  /** A markdown link that would render: [text](url) whose brackets are not escaped. */
  const liveLink = /(^|[^\\])\[[^\]]*(^|[^\\])\]\(/m;

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.say('help', u);
  });
  afterAll(() => bot.close());

  it("shows a decline reason with a link as plain text in the partner's notice and in status", async () => {
    await bot.sayLater('trial admin@contoso.com m365-business-premium', alex);
    const id = bot.lastIdSentTo('T', alex);
    const res = await bot.post(cardAction('offer.decline', { offerId: id, reason: planted }, megan, bot.sink.url));
    expect(res.status).toBe(200);
    await bot.drain();
    const notice = bot.sink
      .sentTo(alex.conversationId)
      .map((r) => bot.sink.textOf(r))
      .find((t) => t.includes(`declined ${id}`))!;
    expect(notice).toContain(escaped);
    expect(notice).not.toMatch(liveLink);
    await bot.sayLater(`status ${id}`, alex);
    const status = bot.lastReply(alex);
    expect(status).toContain(escaped);
    expect(status).not.toMatch(liveLink);
  });

  it("shows a listing's planted link literally in every customer's find results, and a lead's note literally to the partner", async () => {
    const listing = await bot.post(
      cardAction(
        'listing.save',
        {
          listingId: 'new',
          headline: 'Cloud help [click here](https://evil.example/x)',
          description: '# Big\n- [free licences](https://evil.example/y)',
          services: 'm365-business-premium',
          expertise: 'security, [phish](https://evil.example/z)',
          countries: 'US',
          languages: 'en',
          contactName: 'Alex Wilber',
          contactEmail: 'alexw@example.com',
        },
        alex,
        bot.sink.url,
      ),
    );
    expect(listing.status).toBe(200);
    expect((await bot.post(cardAction('listing.publish', { listingId: 'new' }, alex, bot.sink.url))).status).toBe(200);
    await bot.sayLater('find cloud help', megan);
    const sent = bot.sink.sentTo(megan.conversationId);
    const found = sent
      .map((r) => bot.sink.textOf(r))
      .filter((t) => t.includes('Cloud help'))
      .join('\n');
    expect(found).toContain('Cloud help \\[click here\\](https://evil.example/x)');
    expect(found).toContain('\\# Big');
    expect(found).toContain('\\- \\[free licences\\]');
    expect(found).not.toMatch(liveLink);

    const listingId = /\bM-[2-9A-HJKMNP-Z]{6}\b/.exec(found)?.[0];
    expect(listingId).toBeDefined();
    const lead = await bot.post(cardAction('lead.request', { listingId, [`note_${listingId}`]: planted }, megan, bot.sink.url));
    expect(lead.status).toBe(200);
    await bot.drain();
    const leadCard = bot.sink
      .sentTo(alex.conversationId)
      .map((r) => bot.sink.textOf(r))
      .find((t) => t.includes('asks Fabrikam'))!;
    expect(leadCard).toContain(escaped);
    expect(leadCard).not.toMatch(liveLink);
  });
});

describe('very long input gets the error card, not an apology', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex);
  });
  afterAll(() => bot.close());

  it('answers a 90,000-character command with the limit, in the error card', async () => {
    const res = await bot.say(`trial ${'x'.repeat(90_000)}`, alex);
    expect(res.status).toBe(200);
    const sent = bot.sink.sentTo(alex.conversationId);
    const reply = bot.sink.textOf(sent[sent.length - 1]!);
    expect(reply).toMatch(/90,006 characters long; a command is at most 2,000/);
    expect(reply).not.toMatch(/something went wrong/);
    expect(JSON.stringify(sent[sent.length - 1]!.body).length).toBeLessThan(10_000);
  });

  it('refuses a search too long for the More results button, and quotes it short', async () => {
    const res = await bot.say(`find ${'security '.repeat(40)}`, alex);
    expect(res.status).toBe(200);
    expect(bot.lastReply(alex)).toMatch(/A search is at most 300 characters; this one has 359/);
  });

  it('cuts echoed input short in errors', async () => {
    await bot.say(`status ${'y'.repeat(1_500)}@x`, alex);
    const reply = bot.lastReply(alex);
    expect(reply).toMatch(/is not an email address/);
    expect(reply).not.toContain('y'.repeat(100));
  });

  it('refuses a listing with a 100 KB headline in the invoke error shape, naming the limit', async () => {
    const before = await bot.store.listings.get(alex.tenantId);
    const res = await bot.post(cardAction('listing.save', { listingId: 'new', headline: 'h'.repeat(100_000) }, alex, bot.sink.url));
    expect(res.status).toBe(400);
    const body = res.body as InvokeBody;
    expect(body.type).toBe('application/vnd.microsoft.error');
    expect(body.value.message).toMatch(/headline is limited to 100 characters/);
    expect(await bot.store.listings.get(alex.tenantId)).toEqual(before);
  });
});
