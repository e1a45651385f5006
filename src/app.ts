import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
} from 'botbuilder';
import type { Clock } from './clock';
import type { Config } from './config';
import { PartnerOffersBot } from './bot/bot';
import { createConversationCapture } from './bot/capture';
import { createCommandRouter } from './bot/commands';
import { errorCard, registerGeneral } from './bot/general';
import { createVerbTable } from './bot/verbs';
import { createCardRenderer } from './cards/render';
import type { Catalog } from './directory/catalog';
import type { Logger } from './log';
import { registerOffers } from './offers';
import { createOfferMessages } from './offers/messages';
import { createOfferService } from './offers/service';
import { createDeliverer } from './notifications/deliverer';
import { createMessageRegistry } from './notifications/messages';
import { createBotSender } from './notifications/sender';
import { createServer } from './server';
import type { Store } from './store/types';

export interface AppDeps {
  config: Config;
  store: Store;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  /** Overrides for tests: poll faster, or not at all. */
  delivery?: { pollMs?: number; enabled?: boolean };
}

/** Wires the bot from its parts without listening, so tests build exactly what production runs. */
export function createApp({ config, store, catalog, clock, log, delivery }: AppDeps) {
  const auth = new ConfigurationBotFrameworkAuthentication(config.auth as ConfigurationBotFrameworkAuthenticationOptions);
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context, error) => {
    log.error({ err: error, activityId: context.activity.id }, 'unhandled error in turn');
    if (context.activity.type === 'message') {
      await context.sendActivity('Sorry, something went wrong on our side. Please try again in a minute.').catch(() => undefined);
    }
  };

  const cards = createCardRenderer();
  const offerCards = createOfferMessages(cards);
  const offers = createOfferService({ store, catalog, clock, sovereignTenants: config.sovereignTenants, log });

  const router = createCommandRouter();
  const verbs = createVerbTable();
  const messages = createMessageRegistry();
  registerGeneral(router, cards);
  registerOffers(router, verbs, messages, {
    service: offers,
    cards: offerCards,
    installLink: `https://teams.microsoft.com/l/app/${config.teamsAppId}`,
  });

  const capture = createConversationCapture({
    store,
    clock,
    log,
    onPersonalChatReady: async (record) => void (await offers.deliverAwaiting(record)),
  });
  const bot = new PartnerOffersBot({
    router,
    verbs,
    capture,
    store,
    log,
    errorCard: errorCard(cards),
    welcomeText:
      "Hi, I'm Partner Offers. Your Microsoft cloud partners send you trial invitations and purchase offers here, and you answer them with the card buttons. Type help to see what I can do.",
  });

  const deliverer = createDeliverer({ store, send: createBotSender(auth, config.auth.MicrosoftAppId, store, messages), clock, log, pollMs: delivery?.pollMs });
  const server = createServer({ adapter, bot, store, log, afterTurn: () => deliverer.kick() });

  const sweeper = setInterval(() => {
    offers.expireDue().then(
      (n) => n && deliverer.kick(),
      (err: unknown) => log.error({ err }, 'expiry sweep failed'),
    );
  }, 60_000);
  sweeper.unref();

  return {
    server,
    adapter,
    bot,
    offers,
    verbs,
    router,
    cards,
    deliverer,
    start() {
      if (delivery?.enabled !== false) deliverer.start();
    },
    async close() {
      clearInterval(sweeper);
      server.close();
      await deliverer.stop();
    },
  };
}

export type App = ReturnType<typeof createApp>;
