import type { ChannelsStore, OutboxStore } from '../notifications/store';
import type { ConversationsStore, PartnersStore } from '../directory/store';
import type { LeadsStore, ListingsStore } from '../marketplace/store';
import type { OffersStore } from '../offers/store';
import type { FulfilmentsStore } from '../orders/store';
import type { PipelineStore } from '../dashboard/store';
import type { RelationshipsStore } from '../delegation/store';
import type { ResponsesStore } from '../responses/store';

/**
 * Every capability's store, opened on one database. Each port is declared beside its capability; this is only their
 * composition, which the composition root hands to services (each takes the ports it uses). Writes that span
 * capabilities (a decision with its response record and outbox entries) are one call on the capability that owns the
 * decision, and each adapter makes it one transaction.
 */
export interface Store {
  readonly kind: 'sqlite' | 'mongo';
  ping(): Promise<void>;
  close(): Promise<void>;

  partners: PartnersStore;
  conversations: ConversationsStore;
  offers: OffersStore;
  fulfilments: FulfilmentsStore;
  relationships: RelationshipsStore;
  responses: ResponsesStore;
  listings: ListingsStore;
  leads: LeadsStore;
  pipeline: PipelineStore;
  outbox: OutboxStore;
  channels: ChannelsStore;
}
