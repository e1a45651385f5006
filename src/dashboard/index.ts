import type * as restify from 'restify';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { PipelineStore } from './store';
import type { RelationshipsStore } from '../delegation/store';
import type { PartnersStore } from '../directory/store';
import type { OffersStore } from '../offers/store';
import type { FulfilmentsStore } from '../orders/store';
import type { ResponsesStore } from '../responses/store';
import type { LeadsStore, ListingsStore } from '../marketplace/store';
import { registerDashboardApi } from './api';
import { createTabAuth } from './auth';
import { registerTabPage } from './page';

export interface DashboardDeps {
  config: Pick<Config, 'localMode' | 'sovereignTenants' | 'tab'>;
  store: {
    fulfilments: FulfilmentsStore;
    leads: LeadsStore;
    listings: ListingsStore;
    offers: OffersStore;
    partners: PartnersStore;
    pipeline: PipelineStore;
    relationships: RelationshipsStore;
    responses: ResponsesStore;
  };
  /** The catalog's currency (offers are priced in it). */
  currency: string;
  clock: Clock;
  log: Logger;
}

/** The partner dashboard: the "Offers" tab's page and its API, on the bot's own server. */
export function registerDashboard(server: restify.Server, { config, store, currency, clock, log }: DashboardDeps): void {
  const auth = createTabAuth({ config, store, log });
  if (auth.mode() === 'development')
    log.warn('dashboard tab: no AAD_APP_CLIENT_ID, so it runs as the development identity (local mode only)');
  if (auth.mode() === 'unconfigured') log.warn('dashboard tab: AAD_APP_CLIENT_ID is not set, so the tab refuses every request');
  registerTabPage(server, { localMode: config.localMode, hostOrigins: config.tab.hostOrigins, log });
  registerDashboardApi(server, { store, currency, auth, clock, log });
}
