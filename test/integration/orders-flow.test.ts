import { verifyChain } from '../../src/store/chain';
import { capturingLogger } from '../delegation/graph/tiny-server';
import { channelMessage, installationUpdate, SALES } from '../support/activities';
import { shown as shownIn, startMicrosoft, tick as tickBoth, type Microsoft } from '../support/microsoft';
import { alex, CUSTOMER_TENANT, megan, nestor, PARTNER_TENANT } from '../support/people';
import { idIn, type TestBot } from '../support/test-bot';

/**
 * Accepted offers of a partner connected to Partner Center become real orders: the bot buys through the local
 * stand-in of Partner Center (over HTTP, tokens from msal-node), exactly once whatever fails, and no card says
 * "placed" before Partner Center answered the checkout with an order.
 */

/** An order as Partner Center answers it (order-resources). */
interface PcOrder {
  id: string;
  referenceCustomerId: string;
  lineItems: { offerId: string; quantity: number; termDuration?: string; subscriptionId?: string }[];
}

describe('with a Partner Center app, an accepted offer is ordered through Partner Center, exactly once', () => {
  let world: Microsoft;
  let bot: TestBot;
  const { log, lines: logLines } = capturingLogger();

  const tick = (by?: number) => tickBoth(bot, world.ms, by);
  const shown = (chat: { conversationId: string }, id: string) => shownIn(bot, chat, id);
  const pc = () => world.ms.control.partnerCenter();
  const ordersOf = (customer = CUSTOMER_TENANT) => (pc().orders as unknown as PcOrder[]).filter((o) => o.referenceCustomerId === customer);
  const partnerCenterCalls = () => world.ms.requests.filter((r) => r.kind === 'partnercenter');

  /** Alex offers, Megan accepts on the card; the offer's id. */
  async function accepted(command: string): Promise<string> {
    await bot.say(command, alex);
    const id = idIn(command.startsWith('trial') ? 'T' : 'P', bot.lastReply(alex))!;
    await bot.drain();
    const click = await bot.click('offer.accept', { offerId: id }, megan);
    expect(click.status).toBe(200);
    await bot.drain();
    return id;
  }

  beforeAll(async () => {
    world = await startMicrosoft({ partnerCenter: { resellerOf: [CUSTOMER_TENANT] } });
    bot = await world.start({ log, timeoutMs: 1_500 });
    bot.meet(alex, megan, nestor);
    for (const u of [alex, megan, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
    await bot.post(channelMessage('notify here', alex, bot.sink.url, SALES));
    await bot.drain();
  });
  afterAll(async () => {
    await bot.close();
    await world.close();
  });
  afterEach(() => {
    world.ms.control.clearFaults();
    world.ms.control.clearOrderErrors();
  });

  it('a purchase offer: "placing" until Partner Center answers, then one order, its id on both sides and in the chain', async () => {
    const before = ordersOf().length;
    const id = await accepted('offer admin@contoso.com 25 m365-business-premium annual');
    // Accepting records the answer; nothing has been bought yet, and the card does not say so.
    expect(shown(megan, id)).toContain('is placing your order with Microsoft');
    expect(shown(megan, id)).not.toMatch(/Order placed|Microsoft confirmed/);
    expect(ordersOf()).toHaveLength(before);

    await tick(5_000);
    const orders = ordersOf().slice(before);
    expect(orders).toHaveLength(1);
    const order = orders[0]!;
    expect(order.lineItems).toEqual([
      expect.objectContaining({ quantity: 25, termDuration: 'P1Y', offerId: expect.stringMatching(/^CFQ7TTC0LCHC:0002:/) }),
    ]);
    const card = shown(megan, id);
    expect(card).toContain(`Microsoft confirmed order ${order.id}`);
    expect(card).toContain('25 × Microsoft 365 Business Premium, 1-year term, billed annually');
    expect(bot.lastReply(alex)).toContain(`Partner Center placed order ${order.id}`);
    expect(shown({ conversationId: SALES.id }, order.id)).toContain(`Order ${order.id} placed for admin@contoso.com`);

    const records = await bot.store.responses.forSubject(id);
    expect(records.map((r) => [r.slot, r.decision])).toEqual([
      ['offer', 'accepted'],
      ['order', 'placed'],
      ['subscriptions', 'provisioned'],
    ]);
    expect(records[1]!.microsoft).toMatchObject({
      api: 'partnerCenter',
      orderIds: [order.id],
      cartId: (await bot.store.fulfilments.get(id))!.cartId,
    });
    expect(records[2]!.microsoft).toMatchObject({ subscriptionIds: order.lineItems.map((l) => l.subscriptionId) });
    expect(verifyChain(await bot.store.responses.chain(CUSTOMER_TENANT))).toBe(true);

    // The partner follows it with status and customers: the order at Microsoft, and what it is worth a month.
    await bot.say(`status ${id}`, alex);
    expect(bot.lastReply(alex)).toContain(`Order at Microsoft · ${order.id}`);
    expect(bot.lastReply(alex)).toContain('Subscriptions: ');
    await bot.say('status', alex);
    expect(bot.lastReply(alex)).toContain(`Accepted · Order placed: ${order.id}`);
    await bot.say('customers', alex);
    expect(bot.lastReply(alex)).toMatch(/Orders at Microsoft: 1 placed \(worth \$[\d,.]+ a month\)/);

    // The Offers tab (here as the local development identity, Fabrikam): the row's order, and its value as placed.
    const overview = (await (await fetch(`${bot.url}/api/dashboard/overview?kind=purchase`)).json()) as {
      page: { rows: { id: string; order?: string; orderValueCents?: number }[] };
      summary: { value: { months: { month: string; placed: number; accepted: number }[] } };
    };
    expect(overview.page.rows.find((r) => r.id === id)).toMatchObject({ order: `Order placed: ${order.id}`, orderValueCents: 25 * 2200 });
    const thisMonth = overview.summary.value.months.at(-1)!;
    expect(thisMonth).toMatchObject({ placed: 25 * 2200, accepted: 25 * 2200 });

    // Later sweeps buy nothing more.
    await tick(60_000);
    expect(ordersOf()).toHaveLength(before + 1);
    // MS-RequestId and MS-CorrelationId go with every call; one correlation id for the whole order.
    const calls = partnerCenterCalls().filter((r) => r.msCorrelationId === partnerCenterCalls().at(-1)!.msCorrelationId);
    expect(calls.every((r) => r.msRequestId)).toBe(true);
    expect(calls.map((r) => r.path)).toEqual(expect.arrayContaining([expect.stringMatching(/carts$/), expect.stringMatching(/checkout$/)]));
    expect(logLines.join('\n')).not.toContain('fabrikam-stand-in-secret');
  });

  it('a trial invitation starts the trial SKU with its seats, billed nothing', async () => {
    const before = ordersOf().length;
    const id = await accepted('trial admin@contoso.com m365-business-basic');
    await tick(5_000);
    const [order] = ordersOf().slice(before);
    expect(order!.lineItems).toEqual([expect.objectContaining({ offerId: expect.stringMatching(/^CFQ7TTC0LH18:0005:/), quantity: 25 })]);
    expect(pc().subscriptions.find((s) => s.orderId === order!.id)).toMatchObject({ isTrial: true, billingCycle: 'none' });
    expect(shown(megan, id)).toContain(`Trial started on`);
    expect(shown(megan, id)).toContain(`Microsoft confirmed order ${order!.id}`);
  });

  it('checkout answering 500, 429 with Retry-After, or timing out after Partner Center ordered: still one order', async () => {
    for (const fault of [
      { kind: 'error', status: 500, times: 1 },
      { kind: 'throttle', retryAfterSeconds: 1, times: 1 },
      { kind: 'hang', afterProcessing: true, times: 1 },
    ] as const) {
      const before = ordersOf().length;
      const id = await accepted('offer admin@contoso.com 10 m365-business-standard monthly');
      world.ms.control.checkoutFault(fault);
      await tick(5_000);
      expect(ordersOf().length - before).toBe(1);
      expect(pc().carts.every((c) => c.orderingCheckouts <= 1)).toBe(true);
      expect(shown(megan, id)).toContain(`Microsoft confirmed order ${ordersOf().at(-1)!.id}`);
    }
  }, 30_000);

  it('Partner Center down for a while: retried with backoff, the card keeps saying "placing", then one order', async () => {
    const before = ordersOf().length;
    world.ms.control.checkoutFault({ kind: 'error', status: 503, times: 6 });
    const id = await accepted('offer admin@contoso.com 5 m365-business-premium monthly');
    await tick(5_000);
    expect(ordersOf()).toHaveLength(before);
    expect(await bot.store.fulfilments.get(id)).toMatchObject({
      state: 'ordering',
      attempts: 1,
      retrying: { reason: expect.stringContaining('HTTP 503') },
    });
    expect(shown(megan, id)).toContain('is placing your order');
    for (let i = 0; i < 6 && ordersOf().length === before; i++) await tick(60_000);
    expect(ordersOf()).toHaveLength(before + 1);
    expect(shown(megan, id)).toContain('Order placed');
  });

  it('a SKU not sold in the customer’s country stops the job: the partner reads why with Retry, the customer only that the partner follows up', async () => {
    world.ms.control.setSkuAvailability('CFQ7TTC0LCHC', '0002', 'US', false);
    const before = ordersOf().length;
    const id = await accepted('offer admin@contoso.com 3 m365-business-premium annual');
    await tick(5_000);
    expect(ordersOf()).toHaveLength(before);
    expect(await bot.store.fulfilments.get(id)).toMatchObject({ state: 'failed', failure: { stage: 'catalog' } });
    const told = bot.lastReply(alex);
    expect(told).toContain('Partner Center refused the order');
    expect(told).toContain('does not sell Microsoft 365 Business Premium');
    expect(told).toContain('Retry');
    expect(shown(megan, id)).toContain('will follow up with you about this order');
    expect(shown(megan, id)).not.toContain('does not sell');

    // Someone of another organisation cannot retry it; the partner can, once it is sold again.
    expect((await bot.click('order.retry', { offerId: id }, megan)).text).toContain(`can't find an order for ${id}`);
    world.ms.control.setSkuAvailability('CFQ7TTC0LCHC', '0002', 'US', true);
    const retried = await bot.click('order.retry', { offerId: id }, alex);
    expect(retried.text).toContain('trying Partner Center again');
    expect((await bot.click('order.retry', { offerId: id }, alex)).text).toContain('no longer needs retrying');
    await tick(5_000);
    expect(ordersOf()).toHaveLength(before + 1);
    expect(shown(megan, id)).toContain('Order placed');
  });

  it('a credit limit refuses the checkout; Retry checks out the same cart again and orders once', async () => {
    world.ms.control.orderErrorOnCheckout({ code: 900121, description: 'The partner has exceeded its credit limit.' });
    const before = ordersOf().length;
    const id = await accepted('offer admin@contoso.com 4 m365-business-basic annual');
    await tick(5_000);
    const failed = (await bot.store.fulfilments.get(id))!;
    expect(failed).toMatchObject({ state: 'failed', failure: { stage: 'checkout', code: '900121' } });
    expect(bot.lastReply(alex)).toContain('The partner has exceeded its credit limit.');
    await bot.click('order.retry', { offerId: id }, alex);
    await tick(5_000);
    expect(ordersOf()).toHaveLength(before + 1);
    expect((await bot.store.fulfilments.get(id))!.cartId).toBe(failed.cartId);
    expect(pc().carts.find((c) => c.id === failed.cartId)).toMatchObject({ status: 'Ordered', orderingCheckouts: 1 });
  });
});

/** Microsoft as `options` say, and a bot on it that Alex and Megan have installed; closed after the describe. */
function alexAndMegan(options: Parameters<typeof startMicrosoft>[0]) {
  const it = {} as { world: Microsoft; bot: TestBot };
  beforeAll(async () => {
    it.world = await startMicrosoft(options);
    it.bot = await it.world.start();
    it.bot.meet(alex, megan);
    for (const u of [alex, megan]) await it.bot.post(installationUpdate('add', u, it.bot.sink.url));
    await it.bot.drain();
  });
  afterAll(async () => {
    await it.bot.close();
    await it.world.close();
  });
  return it;
}

describe('a customer that does not buy through the partner yet', () => {
  const setup = alexAndMegan({ partnerCenter: { resellerOf: [] } });

  it('gets the reseller invitation on its card; the order waits, and is placed once the customer accepts it', async () => {
    const { bot, world } = setup;
    const tick = (by?: number) => tickBoth(bot, world.ms, by);
    await bot.say('offer admin@contoso.com 25 m365-business-premium annual', alex);
    const id = idIn('P', bot.lastReply(alex))!;
    await bot.drain();
    await bot.click('offer.accept', { offerId: id }, megan);
    await bot.drain();
    await tick(5_000);
    const card = shownIn(bot, megan, id);
    expect(card).toContain('one step left for your organisation');
    expect(card).toContain('Accept Fabrikam Cloud Partners as reseller');
    // The button opens Fabrikam's own invitation, as Partner Center gave it: reseller only, delegated admin off.
    const sent = JSON.stringify(bot.sink.requests.filter((r) => r.conversationId === megan.conversationId).at(-1)?.body);
    expect(sent).toContain(world.ms.control.resellerInvitationLink(PARTNER_TENANT));
    expect(sent).toContain(`partnerId=${PARTNER_TENANT}`);
    expect(bot.lastReply(alex)).toContain('must accept you as their reseller first');
    expect(world.ms.control.partnerCenter().orders).toHaveLength(0);

    await tick(30_000);
    expect(world.ms.control.partnerCenter().orders).toHaveLength(0);
    world.ms.control.acceptResellerRelationship(PARTNER_TENANT, CUSTOMER_TENANT);
    await tick(30_000);
    const orders = world.ms.control.partnerCenter().orders as unknown as PcOrder[];
    expect(orders).toHaveLength(1);
    expect(shownIn(bot, megan, id)).toContain(`Microsoft confirmed order ${orders[0]!.id}`);
    await tick(60_000);
    expect(world.ms.control.partnerCenter().orders).toHaveLength(1);
  });
});

describe('a partner without Partner Center credentials', () => {
  const setup = alexAndMegan({});

  it('records the answer; the card says the partner will place the order, never that it was placed', async () => {
    const { bot, world } = setup;
    await bot.say('offer admin@contoso.com 25 m365-business-premium annual', alex);
    const id = idIn('P', bot.lastReply(alex))!;
    await bot.drain();
    await bot.click('offer.accept', { offerId: id }, megan);
    await bot.drain();
    await tickBoth(bot, world.ms, 60_000);
    expect(shownIn(bot, megan, id)).toContain('will place the order for you');
    expect(shownIn(bot, megan, id)).not.toMatch(/Order placed|placing your order/);
    expect(await bot.store.fulfilments.get(id)).toBeNull();
    expect(world.ms.requests.filter((r) => r.kind === 'partnercenter')).toEqual([]);
  });
});
