import { Writable } from 'node:stream';
import pino from 'pino';
import { cardAction } from '../support/activities';
import { alex, lee, mallory, megan } from '../support/people';
import { rawPost } from '../support/raw-http';
import { startTestBot, type TestBot } from '../support/test-bot';
import { nextRequest, seeded, type FuzzWorld } from './generator';

/**
 * A seeded stream of commands, card actions, malformed activities and raw bodies against the real server. Set
 * FUZZ_SEED to replay a run and FUZZ_REQUESTS for a longer one (nightly: FUZZ_REQUESTS=20000).
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 400);

describe(`fuzz: ${REQUESTS} seeded requests against the running bot (FUZZ_SEED=${SEED})`, () => {
  let bot: TestBot;
  const logged: Array<{ level: number; msg?: string }> = [];
  let world: FuzzWorld;
  /** The one offer the approver really answers, halfway through, while the others keep trying it. */
  let decided: string;

  /** An error nobody handled, anywhere in the server (a stream without an error handler): the process would die. */
  const uncaught: string[] = [];
  const onUncaught = (err: Error) => void uncaught.push(err.message);

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
        done();
      },
    });
    bot = await startTestBot({ log: pino({ level: 'warn' }, sink), turnSendTimeoutMs: 1_000 });
    bot.meet(alex, megan, lee, mallory);
    for (const u of [alex, megan, lee, mallory]) await bot.say('help', u);
    await bot.sayLater('trial admin@contoso.com m365-business-premium with admin as partner of record', alex);
    const trial = bot.lastIdSentTo('T', alex);
    await bot.sayLater('offer admin@contoso.com 10 m365-business-premium annual', alex);
    const purchase = bot.lastIdSentTo('P', alex);
    await bot.sayLater('delegate admin@contoso.com roles Exchange Administrator', alex);
    const delegation = bot.lastIdSentTo('D', alex);
    await bot.sayLater('trial admin@contoso.com teams-essentials', alex);
    decided = bot.lastIdSentTo('T', alex);
    const attached = (await bot.store.relationships.forOffer(trial)).map((r) => r.id);
    const listing = (await bot.store.listings.get(alex.tenantId))?.id;
    world = {
      sinkUrl: bot.sink.url,
      partner: alex,
      approver: megan,
      outsiders: [mallory, lee],
      ids: { offers: [trial, purchase, decided], relationships: [delegation, ...attached], listings: listing ? [listing] : [], leads: [] },
    };
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await bot.close();
  });

  it(
    "never answers 5xx outside the protocol, answers every card action in the invoke shape, logs no error, and records only the approver's own click",
    async () => {
      const untouchedOffers = world.ids.offers.filter((id) => id !== decided);
      const untouched = [...untouchedOffers, ...world.ids.relationships];
      // Where copies of a card were posted (`offers` typed by the approver) is not an answer: left out of the comparison.
      const offerAsDecided = async (id: string) => {
        const o = await bot.store.offers.get(id);
        if (!o) return o;
        const { copies: _copies, ...rest } = o;
        return rest;
      };
      const relationshipAsDecided = async (id: string) => {
        const r = await bot.store.relationships.get(id);
        if (!r) return r;
        const { copies: _copies, ...rest } = r;
        return rest;
      };
      const before = {
        offers: await Promise.all(untouchedOffers.map(offerAsDecided)),
        relationships: await Promise.all(world.ids.relationships.map(relationshipAsDecided)),
        responses: (await Promise.all(untouched.map((id) => bot.store.responses.forSubject(id)))).flat(),
      };
      const r = seeded(SEED);
      const problems: string[] = [];
      for (let i = 0; i < REQUESTS && problems.length < 5; i++) {
        if (i === Math.floor(REQUESTS / 2)) {
          const accepted = await bot.post(cardAction('offer.accept', { offerId: decided }, megan, bot.sink.url));
          if (accepted.status !== 200) problems.push(`the approver's own Accept of ${decided} got ${accepted.status}`);
        }
        const req = nextRequest(r, world);
        const res = await rawPost(bot.url, req.body, req.headers);
        const a = req.activity;
        const invokeName = a?.type === 'invoke' ? a.name : undefined;
        // 501 is the protocol's answer to an invoke the bot does not handle; nothing else may be a server error.
        const allowed5xx = res.status === 501 && invokeName !== 'adaptiveCard/action';
        if (res.status === 0) problems.push(`#${i} ${req.what}: ${res.text}`);
        if (res.status >= 500 && !allowed5xx) problems.push(`#${i} ${req.what}: ${res.status} ${res.text.slice(0, 200)}`);
        if (invokeName === 'adaptiveCard/action' && res.status !== 413 && res.status !== 415 && res.text.startsWith('{')) {
          const body = JSON.parse(res.text) as { statusCode?: unknown; type?: unknown; value?: unknown };
          if (typeof body.statusCode !== 'number' || typeof body.type !== 'string' || body.value === undefined) {
            problems.push(`#${i} ${req.what}: card action answered outside the invoke shape: ${res.status} ${res.text.slice(0, 200)}`);
          }
        }
        if (/\bat .+\.(js|ts):\d+/.test(res.text)) problems.push(`#${i} ${req.what}: a stack trace in the answer`);
      }
      const errors = logged.filter((l) => l.level >= 50);
      expect({ seed: SEED, problems, uncaught, errorsLogged: errors.slice(0, 5) }).toEqual({
        seed: SEED,
        problems: [],
        uncaught: [],
        errorsLogged: [],
      });
      expect({ seed: SEED, health: (await fetch(`${bot.url}/healthz`)).status }).toEqual({ seed: SEED, health: 200 });

      // Nobody who may not answer got anything recorded: the offers and requests, and their answers, are as they were.
      const after = {
        offers: await Promise.all(untouchedOffers.map(offerAsDecided)),
        relationships: await Promise.all(world.ids.relationships.map(relationshipAsDecided)),
        responses: (await Promise.all(untouched.map((id) => bot.store.responses.forSubject(id)))).flat(),
      };
      expect({ seed: SEED, ...after }).toEqual({ seed: SEED, ...before });
      // The approver's one real click is recorded once, as theirs, whatever else arrived before and after it.
      const answers = await bot.store.responses.forSubject(decided);
      expect({
        seed: SEED,
        answers: answers.map((x) => [x.decision, x.by.aadObjectId]),
        state: (await bot.store.offers.get(decided))?.state,
      }).toEqual({
        seed: SEED,
        answers: [['accepted', megan.aadObjectId]],
        state: 'accepted',
      });
    },
    Math.max(60_000, REQUESTS * 20),
  );
});
