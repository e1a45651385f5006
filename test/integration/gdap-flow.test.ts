import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyChain } from '../../src/store/chain';
import { capturingLogger } from '../delegation/graph/tiny-server';
import { channelMessage, installationUpdate, SALES } from '../support/activities';
import {
  EXCHANGE_ADMIN_ROLE as EXCHANGE_ADMIN,
  FABRIKAM_EXCHANGE_GROUP as EXCHANGE_GROUP,
  SECRETS,
  shown as shownIn,
  startMicrosoft,
  tick as tickBoth,
  type Microsoft,
} from '../support/microsoft';
import { alex, CUSTOMER_TENANT, megan, NORTHWIND_TENANT, nestor, PARTNER_TENANT } from '../support/people';
import { idIn, type TestBot } from '../support/test-bot';

/**
 * Delegated administration for partners that connected their Entra app: every "active" and "ended" on a card is what
 * Microsoft Graph (the local stand-in, over HTTP, tokens from msal-node) reported, and the response chain records it.
 */

describe('with Microsoft credentials, delegated administration is created, followed and ended through Graph', () => {
  let world: Microsoft;
  let bot: TestBot;
  const { log, lines: logLines } = capturingLogger();

  const start = async () => world.start({ log });
  const tick = (by?: number) => tickBoth(bot, world.ms, by);
  const graphOf = (d: string) => world.graphOf(d);
  const shown = (chat: { conversationId: string }, id: string) => shownIn(bot, chat, id);
  const rawTo = (chat: { conversationId: string }) => JSON.stringify(bot.sink.sentTo(chat.conversationId).map((r) => r.body));

  beforeAll(async () => {
    world = await startMicrosoft();
    bot = await start();
    bot.meet(alex, megan, nestor);
    for (const u of [alex, megan, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
    await bot.post(channelMessage('notify here', alex, bot.sink.url, SALES));
    await bot.drain();
  });
  afterAll(async () => {
    await bot.close();
    await world.close();
  });

  let fabrikamD: string;

  it('delegate creates the relationship at Microsoft, locks it, and only then sends the card with the approval link', async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 365', alex);
    const reply = bot.lastReply(alex);
    fabrikamD = idIn('D', reply)!;
    expect(reply).toContain(`Delegated-admin request ${fabrikamD} created at Microsoft and sent to Megan Bowen`);

    const rel = graphOf(fabrikamD)!;
    expect(rel.status).toBe('approvalPending');
    expect(rel.graph).toMatchObject({
      duration: 'P365D',
      autoExtendDuration: 'PT0S',
      customer: { tenantId: CUSTOMER_TENANT },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }] },
    });
    expect(reply).toContain(rel.id);

    await bot.drain();
    const card = bot.cardFor(megan, fabrikamD);
    expect(card).toContain('Only a Global Administrator of your organisation can approve this, in the Microsoft 365 admin center');
    expect(card).toContain('Exchange Administrator');
    expect(card).toContain('Review and approve in admin center');
    // The button opens Microsoft's approval link for exactly this relationship (the stand-in's admin center here).
    expect(rawTo(megan)).toContain(`${world.ms.url}/AdminPortal/Home#/partners/invitation/granularAdminRelationships/${rel.id}`);
    expect(card).not.toMatch(/Active since|has Exchange Administrator/);
  });

  it('an approve click on the card (an old card, a crafted payload) records nothing: approval happens at Microsoft', async () => {
    const res = await bot.click('delegation.approve', { relationshipId: fabrikamD, replaces: '' }, megan);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('is approved at Microsoft, not here');
    expect(await bot.store.responses.forSubject(fabrikamD)).toEqual([]);
    expect((await bot.store.relationships.get(fabrikamD))!.state).toBe('approvalPending');
  });

  it('nothing changes on the card until Graph reports the relationship active', async () => {
    const before = bot.replyCount(megan);
    await tick();
    expect(bot.replyCount(megan)).toBe(before);
    expect((await bot.store.relationships.get(fabrikamD))!.graph!.status).toBe('approvalPending');
  });

  it("approved by the Global Administrator at Microsoft: recorded with Graph's confirmation, card active, partner and channel told", async () => {
    const rel = graphOf(fabrikamD)!;
    world.ms.control.approve(rel.id);
    world.ms.control.settle();
    await tick(20_000);

    const approved = world.ms.control.relationship(rel.id)!;
    expect(approved.status).toBe('active');
    const r = (await bot.store.relationships.get(fabrikamD))!;
    expect(r.state).toBe('active');
    expect(r.activatedAt).toBe(approved.graph.activatedDateTime);
    expect(r.endsAt).toBe(approved.graph.endDateTime);

    const [activation] = await bot.store.responses.forSubject(fabrikamD);
    expect(activation).toMatchObject({
      slot: 'activation',
      decision: 'approved',
      microsoft: { relationshipId: rel.id, status: 'active', reportedAt: approved.graph.activatedDateTime },
    });
    expect(verifyChain(await bot.store.responses.chain(CUSTOMER_TENANT))).toBe(true);

    const card = shown(megan, fabrikamD);
    expect(card).toMatch(/Active since 25 Nov 2026 until 25 Nov 2027/);
    expect(bot.cardFor(alex, fabrikamD)).toContain(`Contoso Ltd approved ${fabrikamD} at Microsoft`);
    const channel = bot.sink
      .sentTo(SALES.id)
      .map((x) => bot.sink.textOf(x))
      .join('\n');
    expect(channel).toContain(`approved delegated-admin relationship ${fabrikamD} at Microsoft`);
  });

  it('the access assignment is created for the security group whose roles the relationship includes, and no other', async () => {
    await tick(20_000);
    const rel = graphOf(fabrikamD)!;
    const groups = rel.accessAssignments.map((a) => (a.accessContainer as { accessContainerId: string }).accessContainerId);
    // The Global Reader group gets nothing: the customer approved Exchange Administrator only.
    expect(groups).toEqual([EXCHANGE_GROUP]);
    world.ms.control.settle();
    await tick(20_000);
    await bot.say(`status ${fabrikamD}`, alex);
    const status = bot.lastReply(alex);
    expect(status).toContain(`active · ${rel.id}`);
    expect(status).toContain(`group ${EXCHANGE_GROUP}: active`);
    // Another read creates nothing twice.
    await tick(3_600_000);
    expect(graphOf(fabrikamD)!.accessAssignments).toHaveLength(1);
  });

  it('revoke admin asks Microsoft to end it; the cards say ended only once Graph reports it', async () => {
    await bot.say('revoke admin', megan);
    const confirm = await bot.click('delegation.revoke', { relationshipId: fabrikamD }, megan);
    expect(confirm.text).toContain('Ending: asked Microsoft, not confirmed yet');
    // The click is answered at once; the next sweep (every 5 s) sends Graph's terminate request.
    expect(graphOf(fabrikamD)!.status).toBe('active');
    await tick(5_000);
    const rel = graphOf(fabrikamD)!;
    expect(['terminationRequested', 'terminating', 'terminated']).toContain(rel.status);
    expect((await bot.store.relationships.get(fabrikamD))!.state).toBe('terminationRequested');
    expect(bot.cardFor(alex, fabrikamD)).not.toContain('ended');

    world.ms.control.settle();
    await tick(20_000);
    expect((await bot.store.relationships.get(fabrikamD))!.state).toBe('terminated');
    expect(shown(megan, fabrikamD)).toContain(`${fabrikamD} ended at Microsoft, as you asked`);
    expect(
      bot.sink
        .updatesIn(megan.conversationId)
        .map((x) => bot.sink.textOf(x))
        .at(-1),
    ).toContain('Ended at Microsoft on 25 Nov 2026, as you asked');
    expect(bot.cardFor(alex, fabrikamD)).toContain(`Megan Bowen ended ${fabrikamD}`);
    const records = await bot.store.responses.forSubject(fabrikamD);
    expect(records.map((x) => [x.slot, x.decision])).toEqual([
      ['activation', 'approved'],
      ['termination', 'revoked'],
      ['ended', 'terminated'],
    ]);
    expect(records[2]!.microsoft).toMatchObject({ relationshipId: rel.id });
    expect(['terminating', 'terminated']).toContain(records[2]!.microsoft!.status);
  });

  it('a create whose answer was lost is found by its display name, never created twice', async () => {
    world.ms.control.fault({ kind: 'drop', afterProcessing: true, method: 'POST', path: /delegatedAdminRelationships$/ });
    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await tick();
    const matches = world.ms.control.relationships().filter((r) => r.graph.displayName === `Partner Offers ${d}`);
    expect(matches).toHaveLength(1);
    expect(matches[0]!.status).toBe('approvalPending');
    expect(bot.cardFor(megan, d)).toContain('Review and approve in admin center');
  });

  it('throttled by Graph, the bot waits as Retry-After says and then creates it once', async () => {
    world.ms.control.fault({ kind: 'throttle', retryAfterSeconds: 30, times: 3, method: 'POST', path: /delegatedAdminRelationships$/ });
    await bot.say('delegate admin@contoso.com roles User Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    expect(bot.lastReply(alex)).toContain(`${d} is being created at Microsoft`);
    expect(graphOf(d)).toBeUndefined();
    const r = (await bot.store.relationships.get(d))!;
    expect(new Date(r.graph!.nextCheckAt!).getTime() - bot.clock.now.getTime()).toBeGreaterThanOrEqual(30_000);
    for (let i = 0; i < 6 && !graphOf(d); i++) await tick(60_000);
    expect(world.ms.control.relationships().filter((x) => x.graph.displayName === `Partner Offers ${d}`)).toHaveLength(1);
    await tick(20_000);
    expect(bot.cardFor(megan, d)).toContain('Review and approve in admin center');
  });

  it('a request nobody approves expires when Graph says so', async () => {
    await bot.say('delegate admin@contoso.com roles Global Reader days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    world.ms.control.expire(graphOf(d)!.id);
    await tick(3_600_000);
    expect((await bot.store.relationships.get(d))!.state).toBe('expired');
    expect(bot.cardFor(alex, d)).toContain(`${d} expired without an answer`);
    expect(bot.cardFor(alex, d)).toContain('Microsoft reports the request expired');
  });

  it('approved while the bot was down: the restarted bot finds it active and records it once', async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 90', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const id = graphOf(d)!.id;
    const now = bot.clock.now;
    await bot.close();
    world.ms.control.approve(id);
    world.ms.control.settle();
    bot = await start();
    bot.clock.now = now;
    bot.meet(alex, megan, nestor);
    // The new connector sink: Teams tells a restarted bot nothing, so the test points the chats at it again.
    for (const u of [alex, megan, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
    await bot.post(channelMessage('notify here', alex, bot.sink.url, SALES));
    await tick(3_600_000);
    expect((await bot.store.relationships.get(d))!.state).toBe('active');
    await tick(3_600_000);
    expect((await bot.store.responses.forSubject(d)).filter((x) => x.slot === 'activation')).toHaveLength(1);
  });

  it("terminated outside the bot (admin center): noticed, recorded with Microsoft's word, both sides told", async () => {
    const [active] = (await bot.store.relationships.listByPartner(PARTNER_TENANT, 20)).filter((r) => r.state === 'active');
    world.ms.control.terminate(active!.graph!.id!, { by: 'customer' });
    world.ms.control.settle();
    await tick(3_600_000);
    const r = (await bot.store.relationships.get(active!.id))!;
    expect(r).toMatchObject({ state: 'terminated', endReason: 'endedAtMicrosoft' });
    expect(bot.cardFor(alex, r.id)).toContain(`${r.id} ended at Microsoft`);
    expect(bot.cardFor(megan, r.id)).toContain('outside this app');
    const ended = (await bot.store.responses.forSubject(r.id)).find((x) => x.slot === 'ended');
    expect(ended?.microsoft?.relationshipId).toBe(active!.graph!.id);
  });

  it("approving another connected partner ends the old partner's relationship at Microsoft with the old partner's app", async () => {
    // Fabrikam is the customer's delegated admin again.
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 60', alex);
    const first = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    world.ms.control.approve(graphOf(first)!.id);
    world.ms.control.settle();
    await tick(20_000);
    expect((await bot.store.relationships.get(first))!.state).toBe('active');

    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 60', nestor);
    const second = idIn('D', bot.lastReply(nestor))!;
    await bot.drain();
    const northwindRel = graphOf(second)!;
    expect(northwindRel.partnerTenantId).toBe(NORTHWIND_TENANT);
    world.ms.control.approve(northwindRel.id);
    world.ms.control.settle();
    await tick(20_000);

    expect((await bot.store.relationships.get(second))!.state).toBe('active');
    await tick(20_000);
    const fabrikamRel = graphOf(first)!;
    expect(fabrikamRel.terminationRequestedBy).toBe('partner');
    world.ms.control.settle();
    await tick(20_000);
    expect((await bot.store.relationships.get(first))!).toMatchObject({ state: 'terminated', endReason: 'replaced' });
    expect(bot.cardFor(alex, first)).toContain('replaced you as delegated-admin partner');
    // Its lock and its terminate, both with Fabrikam's own app: Northwind cannot even see it.
    const calls = world.ms.requests.filter((x) => x.method === 'POST' && x.path.endsWith(`${fabrikamRel.id}/requests`));
    expect(calls.map((x) => x.tenantId)).toEqual([PARTNER_TENANT, PARTNER_TENANT]);
    expect(verifyChain(await bot.store.responses.chain(CUSTOMER_TENANT))).toBe(true);
  });

  it('no secret reaches the logs or any file the bot wrote', () => {
    const secrets = Object.values(SECRETS);
    const logs = logLines.join('\n');
    expect(logs).toContain('GDAP relationship created at Microsoft');
    for (const s of secrets) expect(logs).not.toContain(s);
    const files = readdirSync(world.dataDir).map((f) => readFileSync(join(world.dataDir, f)).toString('latin1'));
    for (const s of secrets) for (const f of files) expect(f).not.toContain(s);
  });
});
