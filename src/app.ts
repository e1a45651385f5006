import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { authOptions } from './edge/auth-options';
import { TeamsAdapter } from './edge/adapter';
import { isConnectorUnreachable } from './edge/connector';
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
import { linkedRequests, registerDelegation } from './delegation';
import { createFulfilment, offerOrders, registerOrders } from './orders';
import { partnerCenterTerm } from './orders/plan';
import { createPartnerCenterClient } from './orders/partner-center';
import { createDelegationMessages } from './delegation/messages';
import { createDelegationService } from './delegation/service';
import { isSovereign } from './directory/sovereign';
import { registerNotificationCommands } from './notifications/channel';
import { registerMarketplace } from './marketplace';
import { createMarketplaceMessages } from './marketplace/messages';
import { createMarketplaceService } from './marketplace/service';
import { describeMessage } from './notifications/describe';
import { createDeliverer } from './notifications/deliverer';
import { createForeground } from './edge/foreground';
import { createMessageRegistry } from './notifications/messages';
import { createBotSender } from './notifications/sender';
import { createOutboxRetention } from './notifications/retention';
import { registerDashboard } from './dashboard';
import { createServer } from './server';
import type { Store } from './store/types';
import type { MicrosoftApp } from './directory/microsoft';
import { createGraphClient, type CredentialSources } from './delegation/graph';
import { createGdapFollower } from './delegation/gdap/follow';

export interface AppDeps {
  config: Config;
  store: Store;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  /** Overrides for tests: poll faster, or not at all. */
  delivery?: { pollMs?: number; enabled?: boolean };
  /** Overrides for tests: how long a reply inside a turn may wait for the connector. */
  turnSendTimeoutMs?: number;
  /**
   * Partners that connected their Entra app for Microsoft Graph (from the partners file, by partner tenant id) and
   * where their secrets are read from. Without it every delegation is record-only.
   */
  microsoft?: {
    apps: ReadonlyMap<string, MicrosoftApp>;
    sources: CredentialSources;
    /** Overrides for tests: how long one Graph or token request may take (default 30 s). */
    timeoutMs?: number;
    /** Partners that connected their Partner Center app, by partner tenant id. Without it every order is record-only. */
    partnerCenterApps?: ReadonlyMap<string, MicrosoftApp>;
  };
  /** Overrides for tests: sweep on a timer (default), or only when the test calls `sweep`. */
  sweeper?: { enabled?: boolean };
}

/** Wires the bot from its parts without listening, so tests build exactly what production runs. */
export function createApp({ config, store, catalog, clock, log, delivery, turnSendTimeoutMs, microsoft, sweeper: sweeping }: AppDeps) {
  const auth = new ConfigurationBotFrameworkAuthentication(authOptions(config.auth));
  const adapter = new TeamsAdapter(auth);
  adapter.onTurnError = async (context, error) => {
    if (isConnectorUnreachable(error)) {
      log.warn(
        { activityId: context.activity.id, reason: error.message },
        'turn ended: the connector did not answer, so no reply could be sent',
      );
      return;
    }
    log.error({ err: error, activityId: context.activity.id }, 'unhandled error in turn');
    if (context.activity.type === 'message') {
      await context.sendActivity('Sorry, something went wrong on our side. Please try again in a minute.').catch(() => undefined);
    }
  };

  const cards = createCardRenderer();
  const offerCards = createOfferMessages(cards);
  const delegationCards = createDelegationMessages(cards, config.microsoft.adminCenterUrl);
  // The follower runs even with no partner connected: relationships created at Microsoft by a partner whose
  // credentials were since removed are still due, and it tells that partner what is wrong instead of skipping them.
  const connected = microsoft ?? { apps: new Map<string, MicrosoftApp>(), sources: { env: {}, readFile: () => '' } };
  const follower = createGdapFollower({
    store,
    graph: createGraphClient({
      authorityHost: config.microsoft.authorityHost,
      graphBaseUrl: config.microsoft.graphBaseUrl,
      log,
      sources: connected.sources,
      ...(connected.timeoutMs ? { timeoutMs: connected.timeoutMs, tokenTimeoutMs: connected.timeoutMs } : {}),
    }),
    apps: connected.apps,
    clock,
    log,
  });
  const delegation = createDelegationService({
    store,
    clock,
    sovereignTenants: config.sovereignTenants,
    log,
    microsoft: { apps: connected.apps, follower },
  });
  const fulfilments = createFulfilment({
    store,
    partnerCenter: createPartnerCenterClient({
      authorityHost: config.microsoft.authorityHost,
      baseUrl: config.microsoft.partnerCenterBaseUrl,
      log,
      sources: connected.sources,
      ...(connected.timeoutMs ? { timeoutMs: connected.timeoutMs, tokenTimeoutMs: connected.timeoutMs } : {}),
    }),
    apps: connected.partnerCenterApps ?? new Map(),
    idsOf: (serviceId) => catalog.find(serviceId)?.partnerCenter,
    termOf: partnerCenterTerm,
    clock,
    log,
    leaseMs: config.delivery.fulfilmentLeaseMs,
  });
  const offers = createOfferService({
    store,
    catalog,
    clock,
    sovereignTenants: config.sovereignTenants,
    log,
    onClosed: delegation.closeAttached,
    onAttachedReady: delegation.adoptAttached,
    startFulfilment: fulfilments.start,
  });
  const linked = linkedRequests(delegation, delegationCards, clock);
  const installLink = `https://teams.microsoft.com/l/app/${config.teamsAppId}`;

  const marketplaceCards = createMarketplaceMessages(cards, catalog);
  const marketplace = createMarketplaceService({ store, catalog, clock, sovereignTenants: config.sovereignTenants, log, offers });

  const router = createCommandRouter();
  const verbs = createVerbTable();
  const messages = createMessageRegistry();
  registerGeneral(router, cards);
  const notifications = registerNotificationCommands(router, verbs, { store, cards, clock, log, describe: describeMessage });
  registerOffers(router, verbs, messages, {
    service: offers,
    cards: offerCards,
    installLink,
    linked,
    orders: offerOrders(store),
    statusSections: [
      linked.list,
      async (partner) => marketplaceCards.leadList(await marketplace.leadsOf(partner)),
      notifications.failedCard,
    ],
  });
  registerDelegation(router, verbs, messages, {
    service: delegation,
    cards: delegationCards,
    installLink,
    clock,
    offerCardJson: async (offerId) => {
      const offer = await offers.view(offerId);
      const order = offer.state === 'accepted' ? await offerOrders(store).viewOf(offer) : undefined;
      return offerCards.offerCardJson(offer, await linked.partsOf(offer), order?.customer);
    },
  });
  registerOrders(verbs, messages, { fulfilments, store, cards });

  registerMarketplace(router, verbs, messages, { service: marketplace, cards: marketplaceCards, renderer: cards });

  const capture = createConversationCapture({
    store,
    clock,
    log,
    onPersonalChatReady: async (record) => {
      await offers.deliverAwaiting(record);
      await delegation.deliverAwaiting(record);
    },
  });
  const bot = new PartnerOffersBot({
    router,
    verbs,
    capture,
    store,
    log,
    errorCard: errorCard(cards),
    isSovereign: (tenantId, partner) => isSovereign(tenantId, config.sovereignTenants, partner),
    welcomeText: (partner) =>
      partner
        ? `Hi, I'm Partner Offers, here for ${partner.name}. Send your customers trial invitations, purchase offers and delegated-administration requests from this chat, and I tell you how they answer. Try: trial admin@contoso.com m365-business-premium. Type help to see every command.`
        : "Hi, I'm Partner Offers. Your Microsoft cloud partners send you trial invitations, purchase offers and delegated-administration requests here, and you answer them with the card buttons. Type help to see what I can do.",
  });

  // Teams invokes and tab requests are answered before background deliveries use the event loop.
  const foreground = createForeground();
  const deliverer = createDeliverer({
    store,
    send: createBotSender(auth, config.auth.MicrosoftAppId, store, messages),
    clock,
    log,
    pollMs: delivery?.pollMs,
    // Scale-out: each of N processes sends within 1/N of Teams' limits (an explicit share; see README).
    instances: config.delivery.instances,
    leaseMs: config.delivery.leaseMs,
    foreground,
  });
  const server = createServer({
    adapter,
    bot,
    store,
    log,
    afterTurn: () => deliverer.kick(),
    turnSendTimeoutMs,
    foreground,
    routes: (s) => registerDashboard(s, { config, store, currency: catalog.currency, clock, log }),
  });

  // Expiries, reminders and extensions happen without anyone asking; both steps are compare-and-set, so several
  // processes sweeping at once do each step once. Then retention: delivered outbox entries past OUTBOX_RETENTION_DAYS
  // go, in bounded batches (they are not work for the deliverer, so they are not counted; a failure there is logged
  // and never keeps the expiries and reminders just written from being delivered).
  const pruneOutbox = createOutboxRetention({ outbox: store.outbox, clock, days: config.outboxRetentionDays });
  const sweep = async () => {
    const done = (await offers.expireDue()) + (await delegation.sweep()) + (await fulfilments.sweep());
    await pruneOutbox().catch((err: unknown) => log.error({ err }, 'outbox retention failed'));
    return done;
  };
  let sweeping_ = false;
  // Relationships at Microsoft are read every few seconds while someone may be approving them: the sweep finds them.
  const sweeper =
    sweeping?.enabled === false
      ? undefined
      : setInterval(
          () => {
            // One sweep at a time per process: a slow Graph must not pile sweeps up.
            if (sweeping_) return;
            sweeping_ = true;
            sweep()
              .then(
                (n) => n && deliverer.kick(),
                (err: unknown) => log.error({ err }, 'expiry sweep failed'),
              )
              .finally(() => (sweeping_ = false));
          },
          connected.apps.size > 0 || (connected.partnerCenterApps?.size ?? 0) > 0 ? 5_000 : 60_000,
        );
  sweeper?.unref();

  return {
    server,
    adapter,
    bot,
    offers,
    delegation,
    marketplace,
    fulfilments,
    sweep,
    pruneOutbox,
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
