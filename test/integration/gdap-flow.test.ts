import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../../src/store/chain';
import { capturingLogger } from '../delegation/graph/tiny-server';
import { startMicrosoftStandIn, type MicrosoftStandIn } from '../../stand-in';
import { channelMessage, installationUpdate, SALES } from '../support/activities';
import { alex, CUSTOMER_TENANT, megan, NORTHWIND_TENANT, nestor, PARTNER_TENANT } from '../support/people';
import { idIn, startTestBot, type TestBot } from '../support/test-bot';

/**
 * Delegated administration for partners that connected their Entra app: every "active" and "ended" on a card is what
 * Microsoft Graph (the local stand-in, over HTTP, tokens from msal-node) reported, and the response chain records it.
 */

const START = new Date('2026-11-25T09:00:00.000Z');
const FABRIKAM_APP = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const NORTHWIND_APP = '2d4e6f80-1a3b-4c5d-8e9f-0a1b2c3d4e5f';
const SECRETS = {
  FABRIKAM_GRAPH_CLIENT_SECRET: 'fabrikam-stand-in-secret-7Qx9',
  NORTHWIND_GRAPH_CLIENT_SECRET: 'northwind-stand-in-secret-4Kp2',
};
const EXCHANGE_ADMIN = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const EXCHANGE_GROUP = '0c4f7a2e-5b1d-4e8a-9f3c-2d6b8a1e4f70';
const NORTHWIND_GROUP = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';

/** The sample partners file, with Northwind connected too (so a replace ends a real relationship of another partner). */
function partnersFile(dir: string): string {
  const sample = JSON.parse(readFileSync('env/partners.sample.json', 'utf8')) as { partners: Record<string, unknown>[] };
  const northwind = sample.partners.find((p) => p.tenantId === NORTHWIND_TENANT)!;
  northwind.microsoft = {
    clientId: NORTHWIND_APP,
    clientSecretEnv: 'NORTHWIND_GRAPH_CLIENT_SECRET',
    securityGroups: [{ groupId: NORTHWIND_GROUP, roles: ['Helpdesk Administrator'] }],
  };
  const file = join(dir, 'partners.json');
  writeFileSync(file, JSON.stringify(sample));
  return file;
}

describe('with Microsoft credentials, delegated administration is created, followed and ended through Graph', () => {
  let ms: MicrosoftStandIn;
  let bot: TestBot;
  let dir: string;
  let file: string;
  const { log, lines: logLines } = capturingLogger();

  const start = async (dataDir?: string) =>
    startTestBot({
      start: ms.control.clock.now(),
      microsoft: { standIn: ms, secrets: SECRETS },
      partnersFile: file,
      ...(dataDir ? { dataDir } : {}),
      log,
    });

  /** Time passes for both the bot and Microsoft, then the bot's sweep runs what is due and delivers. */
  const tick = async (ms_ = 60_000) => {
    bot.clock.now = new Date(bot.clock.now.getTime() + ms_);
    ms.control.clock.set(bot.clock.now);
    await bot.app.sweep();
    await bot.drain();
  };
  const graphOf = (displayName: string) => ms.control.relationships().find((r) => r.graph.displayName === displayName);
  /** The card as the chat shows it now: the last message or update there that names the id. */
  const shown = (chat: { conversationId: string }, id: string) =>
    bot.sink.requests
      .filter((x) => (x.method === 'POST' || x.method === 'PUT') && x.accepted && x.conversationId === chat.conversationId)
      .map((x) => bot.sink.textOf(x))
      .filter((t) => t.includes(id))
      .at(-1) ?? '';
  const rawTo = (chat: { conversationId: string }) => JSON.stringify(bot.sink.sentTo(chat.conversationId).map((r) => r.body));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gdap-flow-'));
    file = partnersFile(dir);
    ms = await startMicrosoftStandIn({
      now: START,
      freezeClock: true,
      partners: [
        {
          tenantId: PARTNER_TENANT,
          displayName: 'Fabrikam Cloud Partners',
          app: { clientId: FABRIKAM_APP, clientSecret: SECRETS.FABRIKAM_GRAPH_CLIENT_SECRET },
        },
        {
          tenantId: NORTHWIND_TENANT,
          displayName: 'Northwind Managed Services',
          app: { clientId: NORTHWIND_APP, clientSecret: SECRETS.NORTHWIND_GRAPH_CLIENT_SECRET },
        },
      ],
      customers: [{ tenantId: CUSTOMER_TENANT, displayName: 'Contoso', defaultDomainName: 'contoso.onmicrosoft.com' }],
    });
    bot = await start(join(dir, 'data'));
    bot.meet(alex, megan, nestor);
    for (const u of [alex, megan, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
    await bot.post(channelMessage('notify here', alex, bot.sink.url, SALES));
    await bot.drain();
  });
  afterAll(async () => {
    await bot.close();
    await ms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let fabrikamD: string;

  it('delegate creates the relationship at Microsoft, locks it, and only then sends the card with the approval link', async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 365', alex);
    const reply = bot.lastReply(alex);
    fabrikamD = idIn('D', reply)!;
    expect(reply).toContain(`Delegated-admin request ${fabrikamD} created at Microsoft and sent to Megan Bowen`);

    const rel = graphOf(`Partner Offers ${fabrikamD}`)!;
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
    expect(card).toContain('Review and approve in the Microsoft 365 admin center');
    // The button opens Microsoft's approval link for exactly this relationship (the stand-in's admin center here).
    expect(rawTo(megan)).toContain(`${ms.url}/AdminPortal/Home#/partners/invitation/granularAdminRelationships/${rel.id}`);
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
    const rel = graphOf(`Partner Offers ${fabrikamD}`)!;
    ms.control.approve(rel.id);
    ms.control.settle();
    await tick(20_000);

    const approved = ms.control.relationship(rel.id)!;
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
    expect(bot.cardFor(alex, fabrikamD)).toContain(`Megan Bowen approved ${fabrikamD} at Microsoft`);
    const channel = bot.sink
      .sentTo(SALES.id)
      .map((x) => bot.sink.textOf(x))
      .join('\n');
    expect(channel).toContain(`approved delegated-admin relationship ${fabrikamD} at Microsoft`);
  });

  it('the access assignment is created for the security group whose roles the relationship includes, and no other', async () => {
    await tick(20_000);
    const rel = graphOf(`Partner Offers ${fabrikamD}`)!;
    const groups = rel.accessAssignments.map((a) => (a.accessContainer as { accessContainerId: string }).accessContainerId);
    // The Global Reader group gets nothing: the customer approved Exchange Administrator only.
    expect(groups).toEqual([EXCHANGE_GROUP]);
    ms.control.settle();
    await tick(20_000);
    await bot.say(`status ${fabrikamD}`, alex);
    const status = bot.lastReply(alex);
    expect(status).toContain(`active · ${rel.id}`);
    expect(status).toContain(`group ${EXCHANGE_GROUP}: active`);
    // Another read creates nothing twice.
    await tick(3_600_000);
    expect(graphOf(`Partner Offers ${fabrikamD}`)!.accessAssignments).toHaveLength(1);
  });

  it('revoke admin asks Microsoft to end it; the cards say ended only once Graph reports it', async () => {
    await bot.say('revoke admin', megan);
    const confirm = await bot.click('delegation.revoke', { relationshipId: fabrikamD }, megan);
    expect(confirm.text).toContain('Ending: asked Microsoft, not confirmed yet');
    const rel = graphOf(`Partner Offers ${fabrikamD}`)!;
    expect(['terminationRequested', 'terminating', 'terminated']).toContain(rel.status);
    expect((await bot.store.relationships.get(fabrikamD))!.state).toBe('terminationRequested');
    expect(bot.cardFor(alex, fabrikamD)).not.toContain('ended');

    ms.control.settle();
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
    ms.control.fault({ kind: 'drop', afterProcessing: true, method: 'POST', path: /delegatedAdminRelationships$/ });
    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await tick();
    const matches = ms.control.relationships().filter((r) => r.graph.displayName === `Partner Offers ${d}`);
    expect(matches).toHaveLength(1);
    expect(matches[0]!.status).toBe('approvalPending');
    expect(bot.cardFor(megan, d)).toContain('Review and approve in the Microsoft 365 admin center');
  });

  it('throttled by Graph, the bot waits as Retry-After says and then creates it once', async () => {
    ms.control.fault({ kind: 'throttle', retryAfterSeconds: 30, times: 3, method: 'POST', path: /delegatedAdminRelationships$/ });
    await bot.say('delegate admin@contoso.com roles User Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    expect(bot.lastReply(alex)).toContain(`${d} is being created at Microsoft`);
    const name = `Partner Offers ${d}`;
    expect(graphOf(name)).toBeUndefined();
    const r = (await bot.store.relationships.get(d))!;
    expect(new Date(r.graph!.nextCheckAt!).getTime() - bot.clock.now.getTime()).toBeGreaterThanOrEqual(30_000);
    for (let i = 0; i < 6 && !graphOf(name); i++) await tick(60_000);
    expect(ms.control.relationships().filter((x) => x.graph.displayName === name)).toHaveLength(1);
    await tick(20_000);
    expect(bot.cardFor(megan, d)).toContain('Review and approve in the Microsoft 365 admin center');
  });

  it('a request nobody approves expires when Graph says so', async () => {
    await bot.say('delegate admin@contoso.com roles Global Reader days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    ms.control.expire(graphOf(`Partner Offers ${d}`)!.id);
    await tick(3_600_000);
    expect((await bot.store.relationships.get(d))!.state).toBe('expired');
    expect(bot.cardFor(alex, d)).toContain(`${d} expired without an answer`);
    expect(bot.cardFor(alex, d)).toContain('Microsoft reports the request expired');
  });

  it('approved while the bot was down: the restarted bot finds it active and records it once', async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 90', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const id = graphOf(`Partner Offers ${d}`)!.id;
    const now = bot.clock.now;
    await bot.close();
    ms.control.approve(id);
    ms.control.settle();
    bot = await start(join(dir, 'data'));
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
    ms.control.terminate(active!.graph!.id!, { by: 'customer' });
    ms.control.settle();
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
    ms.control.approve(graphOf(`Partner Offers ${first}`)!.id);
    ms.control.settle();
    await tick(20_000);
    expect((await bot.store.relationships.get(first))!.state).toBe('active');

    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 60', nestor);
    const second = idIn('D', bot.lastReply(nestor))!;
    await bot.drain();
    const northwindRel = graphOf(`Partner Offers ${second}`)!;
    expect(northwindRel.partnerTenantId).toBe(NORTHWIND_TENANT);
    ms.control.approve(northwindRel.id);
    ms.control.settle();
    await tick(20_000);

    expect((await bot.store.relationships.get(second))!.state).toBe('active');
    await tick(20_000);
    const fabrikamRel = graphOf(`Partner Offers ${first}`)!;
    expect(fabrikamRel.terminationRequestedBy).toBe('partner');
    ms.control.settle();
    await tick(20_000);
    expect((await bot.store.relationships.get(first))!).toMatchObject({ state: 'terminated', endReason: 'replaced' });
    expect(bot.cardFor(alex, first)).toContain('replaced you as delegated-admin partner');
    // Its lock and its terminate, both with Fabrikam's own app: Northwind cannot even see it.
    const calls = ms.requests.filter((x) => x.method === 'POST' && x.path.endsWith(`${fabrikamRel.id}/requests`));
    expect(calls.map((x) => x.tenantId)).toEqual([PARTNER_TENANT, PARTNER_TENANT]);
    expect(verifyChain(await bot.store.responses.chain(CUSTOMER_TENANT))).toBe(true);
  });

  it('no secret reaches the logs or any file the bot wrote', () => {
    const secrets = Object.values(SECRETS);
    const logs = logLines.join('\n');
    expect(logs).toContain('GDAP relationship created at Microsoft');
    for (const s of secrets) expect(logs).not.toContain(s);
    const files = readdirSync(join(dir, 'data')).map((f) => readFileSync(join(dir, 'data', f)).toString('latin1'));
    for (const s of secrets) for (const f of files) expect(f).not.toContain(s);
  });
});
