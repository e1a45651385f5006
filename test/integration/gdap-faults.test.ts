import { verifyChain } from '../../src/store/chain';
import { channelMessage, installationUpdate, SALES } from '../support/activities';
import { shown, startMicrosoft, tick, type Microsoft } from '../support/microsoft';
import { alex, CUSTOMER_TENANT, lee, megan, nestor } from '../support/people';
import { idIn, type TestBot } from '../support/test-bot';

/**
 * What goes wrong between the bot and Microsoft, and what people see meanwhile: nothing is lost, nothing is created
 * twice, nothing is said that Graph did not report.
 */

async function meetEveryone(bot: TestBot) {
  bot.meet(alex, megan, nestor);
  for (const u of [alex, megan, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
  await bot.post(channelMessage('notify here', alex, bot.sink.url, SALES));
  await bot.drain();
}

describe('faults between the bot and Microsoft', () => {
  let world: Microsoft;
  let bot: TestBot;

  beforeAll(async () => {
    world = await startMicrosoft();
    bot = await world.start({ timeoutMs: 400 });
    await meetEveryone(bot);
  });
  afterAll(async () => {
    await bot.close();
    await world.close();
  });

  it('token endpoint down: the partner is told the request is being created, and it is created once when Entra is back', async () => {
    world.ms.control.tokenEndpointDown({ retryAfterSeconds: 1 });
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    expect(bot.lastReply(alex)).toContain(`${d} is being created at Microsoft`);
    expect(bot.cardFor(megan, d)).toBe('');
    await bot.say(`status ${d}`, alex);
    expect(bot.lastReply(alex)).toContain('Being created at Microsoft');
    expect(bot.lastReply(alex)).toContain('(will try again)');

    world.ms.control.tokenEndpointUp();
    // msal-node holds a throttled token endpoint for its Retry-After (1 s here, in real time), the client a little longer.
    await new Promise((r) => setTimeout(r, 1600));
    for (let i = 0; i < 10 && !world.graphOf(d); i++) await tick(bot, world.ms, 60_000);
    expect(world.ms.control.relationships().filter((r) => r.graph.displayName === `Partner Offers ${d}`)).toHaveLength(1);
    await tick(bot, world.ms, 20_000);
    expect(bot.cardFor(megan, d)).toContain('Review and approve in admin center');
  });

  it('a request declined while Microsoft was unreachable is never created there afterwards', async () => {
    const down = world.ms.control.fault({
      kind: 'error',
      status: 503,
      times: 'always',
      method: 'POST',
      path: /delegatedAdminRelationships$/,
    });
    await bot.say('trial admin@contoso.com teams-essentials with admin', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    expect((await bot.store.relationships.get(d))!.graph?.problem).toBeDefined();
    const declined = await bot.click('delegation.decline', { relationshipId: d }, megan);
    expect(declined.status).toBe(200);
    expect((await bot.store.relationships.get(d))!.state).toBe('declined');
    world.ms.control.removeFault(down.id);
    for (let i = 0; i < 4; i++) await tick(bot, world.ms, 60_000);
    expect(world.graphOf(d)).toBeUndefined();
    expect((await bot.store.relationships.get(d))!.graph?.nextCheckAt).toBeUndefined();
  });

  it('Graph answers 5xx while the customer approves: the bot backs off and records the activation once', async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 60', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const id = world.graphOf(d)!.id;
    world.ms.control.fault({ kind: 'error', status: 503, times: 3, method: 'GET', path: id });
    world.ms.control.approve(id);
    world.ms.control.settle();
    const attempts = () => world.ms.requests.filter((x) => x.method === 'GET' && x.path.endsWith(id)).length;
    for (let i = 0; i < 12 && (await bot.store.relationships.get(d))!.state !== 'active'; i++) await tick(bot, world.ms, 60_000);
    expect((await bot.store.relationships.get(d))!.state).toBe('active');
    expect(attempts()).toBeGreaterThanOrEqual(4);
    expect((await bot.store.responses.forSubject(d)).filter((x) => x.slot === 'activation')).toHaveLength(1);
    expect(shown(bot, megan, d)).toContain('Active since');
  });

  it('a create that hangs past the timeout but happened is found by its display name', async () => {
    world.ms.control.fault({ kind: 'hang', afterProcessing: true, method: 'POST', path: /delegatedAdminRelationships$/ });
    await bot.say('delegate admin@contoso.com roles Global Reader days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    for (let i = 0; i < 5 && !(await bot.store.relationships.get(d))!.graph!.cardQueued; i++) await tick(bot, world.ms, 60_000);
    await bot.drain();
    expect(world.ms.control.relationships().filter((r) => r.graph.displayName === `Partner Offers ${d}`)).toHaveLength(1);
    expect(bot.cardFor(megan, d)).toContain('Review and approve in admin center');
  });

  it('the customer declines in the chat; a Global Administrator approves at Microsoft anyway: Graph is what counts', async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 90', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const declined = await bot.click('delegation.decline', { relationshipId: d }, megan);
    expect(declined.text).toContain("Microsoft's request stays unapproved and expires on its own");
    expect((await bot.store.relationships.get(d))!.state).toBe('declined');

    world.ms.control.approve(world.graphOf(d)!.id);
    world.ms.control.settle();
    await tick(bot, world.ms, 3_600_000);
    expect((await bot.store.relationships.get(d))!.state).toBe('active');
    expect(shown(bot, megan, d)).toContain('Active since');
    expect((await bot.store.responses.forSubject(d)).map((x) => x.slot)).toEqual(['delegation', 'activation']);
  });

  it('the partner revokes: ended at Microsoft with its own app; both sides hear it once Graph confirms', async () => {
    const d = (await bot.store.relationships.activeFor(CUSTOMER_TENANT, 'delegation'))!.id;
    await bot.say(`delegate revoke ${d}`, alex);
    expect(bot.lastReply(alex)).toContain(`${d}: Ending: asked Microsoft, not confirmed yet`);
    expect(bot.lastReply(alex)).toContain('I asked Microsoft to end it');
    world.ms.control.settle();
    await tick(bot, world.ms, 20_000);
    expect((await bot.store.relationships.get(d))!).toMatchObject({ state: 'terminated', endReason: 'revokedByPartner' });
    expect(bot.cardFor(megan, d)).toContain(`Fabrikam Cloud Partners ended ${d}`);
    expect(bot.cardFor(alex, d)).toContain(`${d} ended at Microsoft`);
    expect(verifyChain(await bot.store.responses.chain(CUSTOMER_TENANT))).toBe(true);
  });

  it("auto-extended at Microsoft: the new end date is Graph's, and both sides are told", async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 30 auto-extend', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const id = world.graphOf(d)!.id;
    world.ms.control.approve(id);
    world.ms.control.settle();
    await tick(bot, world.ms, 20_000);
    const firstEnd = (await bot.store.relationships.get(d))!.endsAt!;
    expect(firstEnd).toBe(world.ms.control.relationship(id)!.graph.endDateTime);

    await tick(bot, world.ms, 31 * 24 * 3_600_000);
    const extended = world.ms.control.relationship(id)!.graph.endDateTime as string;
    expect(extended > firstEnd).toBe(true);
    const r = (await bot.store.relationships.get(d))!;
    expect(r).toMatchObject({ state: 'active', endsAt: extended, extensions: 1 });
    expect(bot.cardFor(alex, d)).toContain(`${d} extended at Microsoft`);
    expect(bot.cardFor(megan, d)).toContain(`${d} extended at Microsoft`);

    // Ended for the next tests (one active partner per customer).
    await bot.say(`delegate revoke ${d}`, alex);
    world.ms.control.settle();
    await tick(bot, world.ms, 20_000);
    expect((await bot.store.relationships.get(d))!.state).toBe('terminated');
  });

  it('a request to someone without the app is created at Microsoft when they install it, pinned to their tenant', async () => {
    bot.meet(lee);
    await bot.say('delegate lee@contoso.com roles Global Reader days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    expect(bot.lastReply(alex)).toContain(`${d} is waiting for lee@contoso.com to install Partner Offers`);
    await tick(bot, world.ms, 60_000);
    expect(world.graphOf(d)).toBeUndefined();

    await bot.post(installationUpdate('add', lee, bot.sink.url));
    await bot.drain();
    expect(world.graphOf(d)!.graph).toMatchObject({ status: 'approvalPending', customer: { tenantId: CUSTOMER_TENANT } });
    expect(bot.cardFor(lee, d)).toContain('Review and approve in admin center');
    expect(bot.cardFor(alex, d)).toContain(`${d} reached Lee Gu`);
  });

  it("the partner's status names the customer as Microsoft does", async () => {
    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.say(`status ${d}`, alex);
    expect(bot.lastReply(alex)).toContain('Organisation: Contoso Ltd (contoso.onmicrosoft.com)');
    expect(bot.lastReply(alex)).toContain(`approvalPending · ${world.graphOf(d)!.id}`);
  });
});

describe('a partner whose Entra app Microsoft refuses', () => {
  let world: Microsoft;
  let bot: TestBot;

  beforeAll(async () => {
    world = await startMicrosoft();
    bot = await world.start({ secrets: { FABRIKAM_GRAPH_CLIENT_SECRET: 'not-the-secret', NORTHWIND_GRAPH_CLIENT_SECRET: 'x' } });
    await meetEveryone(bot);
  });
  afterAll(async () => {
    await bot.close();
    await world.close();
  });

  it('is told once what to fix, sees it in status, and no card claims anything', async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    expect(bot.lastReply(alex)).toContain(`${d} is being created at Microsoft`);
    await bot.drain();
    for (let i = 0; i < 3; i++) await tick(bot, world.ms, 16 * 60_000);
    const told = bot.sink
      .sentTo(alex.conversationId)
      .map((x) => bot.sink.textOf(x))
      .filter((t) => t.includes('I cannot reach Microsoft with your Entra app'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('invalid_client');
    await bot.say(`status ${d}`, alex);
    expect(bot.lastReply(alex)).toContain('Problem:');
    expect(bot.cardFor(megan, d)).toBe('');
    expect(world.graphOf(d)).toBeUndefined();
  });
});

describe('a record-only partner replaced by a connected one', () => {
  let world: Microsoft;
  let bot: TestBot;

  beforeAll(async () => {
    world = await startMicrosoft({ connectNorthwind: false });
    bot = await world.start();
    await meetEveryone(bot);
  });
  afterAll(async () => {
    await bot.close();
    await world.close();
  });

  it("ends the old consent here only, and the customer is told the old partner's roles stay until removed", async () => {
    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 30', nestor);
    const old = idIn('D', bot.lastReply(nestor))!;
    await bot.drain();
    await bot.click('delegation.approve', { relationshipId: old, replaces: '' }, megan);
    expect((await bot.store.relationships.get(old))!.state).toBe('active');

    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    world.ms.control.approve(world.graphOf(d)!.id);
    world.ms.control.settle();
    await tick(bot, world.ms, 20_000);

    expect((await bot.store.relationships.get(old))!).toMatchObject({ state: 'terminated', endReason: 'replaced' });
    const card = bot.sink
      .updatesIn(megan.conversationId)
      .map((x) => bot.sink.textOf(x))
      .filter((t) => t.includes(d))
      .at(-1);
    expect(card).toContain('Active since');
    expect(card).toContain(
      'Northwind Managed Services was recorded here as your delegated-admin partner and is replaced here; any roles Northwind Managed Services holds at Microsoft stay until you remove them',
    );
    expect(bot.cardFor(nestor, old)).toContain('Nothing changed at Microsoft');
  });

  it("approving the record-only partner again ends the connected one's relationship at Microsoft, with its own app", async () => {
    const fabrikam = (await bot.store.relationships.activeFor(CUSTOMER_TENANT, 'delegation'))!;
    expect(fabrikam.graph?.id).toBeDefined();
    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 60', nestor);
    const d = idIn('D', bot.lastReply(nestor))!;
    await bot.drain();
    expect(bot.cardFor(megan, d)).toContain(
      "Approving records Northwind Managed Services instead and asks Microsoft to end Fabrikam Cloud Partners' relationship",
    );
    const approved = await bot.click('delegation.approve', { relationshipId: d, replaces: fabrikam.id }, megan);
    expect(approved.text).toContain('whose delegated admin relationship this app is ending at Microsoft');
    expect((await bot.store.relationships.get(fabrikam.id))!.state).toBe('terminationRequested');
    // The click is answered at once; the next sweep sends the terminate, with Fabrikam's own app.
    await tick(bot, world.ms, 5_000);
    expect(world.ms.control.relationship(fabrikam.graph!.id!)!.terminationRequestedBy).toBe('partner');
    const terminate = world.ms.requests.filter((x) => x.method === 'POST' && x.path.endsWith(`${fabrikam.graph!.id!}/requests`)).at(-1)!;
    expect(terminate.tenantId).toBe(fabrikam.partnerTenantId);
    expect(bot.cardFor(alex, fabrikam.id)).not.toContain('replaced you');

    world.ms.control.settle();
    await tick(bot, world.ms, 20_000);
    expect((await bot.store.relationships.get(fabrikam.id))!).toMatchObject({ state: 'terminated', endReason: 'replaced' });
    expect(bot.cardFor(alex, fabrikam.id)).toContain('Megan Bowen replaced you as delegated-admin partner');
    expect(shown(bot, megan, fabrikam.id)).toContain('Ended at Microsoft on 25 Nov 2026: replaced by Northwind Managed Services');
  });
});

describe('two bot processes following the same relationships', () => {
  let world: Microsoft;
  let a: TestBot;
  let b: TestBot;

  beforeAll(async () => {
    world = await startMicrosoft();
    a = await world.start();
    b = await world.start();
    await meetEveryone(a);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await world.close();
  });

  it('racing sweeps record the activation once and create each access assignment once', async () => {
    await a.say('delegate admin@contoso.com roles Exchange Administrator days 30', alex);
    const d = idIn('D', a.lastReply(alex))!;
    await a.drain();
    world.ms.control.approve(world.graphOf(d)!.id);
    world.ms.control.settle();
    for (let i = 0; i < 4; i++) {
      const at = new Date(a.clock.now.getTime() + 20_000);
      a.clock.now = at;
      b.clock.now = at;
      world.ms.control.clock.set(at);
      await Promise.all([a.app.sweep(), b.app.sweep(), a.app.sweep(), b.app.sweep()]);
      world.ms.control.settle();
    }
    expect((await a.store.responses.forSubject(d)).filter((x) => x.slot === 'activation')).toHaveLength(1);
    expect(world.graphOf(d)!.accessAssignments).toHaveLength(1);
    const posts = world.ms.requests.filter((x) => x.method === 'POST' && x.path.endsWith('/accessAssignments'));
    expect(posts).toHaveLength(1);
  });
});

describe("a connected partner's delegated-admin request on an offer", () => {
  let world: Microsoft;
  let bot: TestBot;

  beforeAll(async () => {
    world = await startMicrosoft();
    bot = await world.start();
    await meetEveryone(bot);
  });
  afterAll(async () => {
    await bot.close();
    await world.close();
  });

  it("is created at Microsoft; the offer card's section carries the approval link and turns active on Graph's word", async () => {
    await bot.say('trial admin@contoso.com teams-essentials with admin', alex);
    const t = idIn('T', bot.lastReply(alex))!;
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const rel = world.graphOf(d)!;
    expect(rel.graph).toMatchObject({ status: 'approvalPending', customer: { tenantId: CUSTOMER_TENANT } });
    const card = shown(bot, megan, t);
    expect(card).toContain('Review and approve in admin center');
    expect(JSON.stringify(bot.sink.sentTo(megan.conversationId).map((x) => x.body))).toContain(`granularAdminRelationships/${rel.id}`);

    // Accepting the trial does not approve the request: only Microsoft does.
    await bot.click('offer.accept', { offerId: t }, megan);
    expect((await bot.store.relationships.get(d))!.state).toBe('approvalPending');

    world.ms.control.approve(rel.id);
    world.ms.control.settle();
    await tick(bot, world.ms, 20_000);
    expect((await bot.store.relationships.get(d))!).toMatchObject({ state: 'active', approver: { aadObjectId: megan.aadObjectId } });
    expect(shown(bot, megan, t)).toContain('Active since');
    expect(
      bot.sink
        .sentTo(SALES.id)
        .map((x) => bot.sink.textOf(x))
        .join('\n'),
    ).toContain(`${d} at Microsoft`);

    // The partner's customer list names the organisation as Microsoft does.
    await bot.say('customers', alex);
    expect(bot.lastReply(alex)).toContain('admin@contoso.com (Contoso Ltd)');
  });

  it('outlives a withdrawn offer at Microsoft, where it can still be approved, and is recorded when it is', async () => {
    await bot.say('trial admin@contoso.com teams-essentials with admin', alex);
    const t = idIn('T', bot.lastReply(alex))!;
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    await bot.say(`withdraw ${t}`, alex);
    expect((await bot.store.relationships.get(d))!.state).toBe('approvalPending');
    world.ms.control.approve(world.graphOf(d)!.id);
    world.ms.control.settle();
    await tick(bot, world.ms, 3_600_000);
    expect((await bot.store.relationships.get(d))!.state).toBe('active');
    expect((await bot.store.responses.forSubject(d)).map((x) => x.slot)).toEqual(['activation']);
  });
});
