import type { Store } from '../types';
import { CHANNEL_COLLECTIONS, mongoChannels } from './channels';
import { CONVERSATION_COLLECTIONS, mongoConversations } from './conversations';
import { openDb, type Warn } from './db';
import { FULFILMENT_COLLECTIONS, mongoFulfilmentInsert, mongoFulfilments } from './fulfilments';
import { MARKETPLACE_COLLECTIONS, mongoLeads, mongoListings } from './marketplace';
import { mongoOffers, OFFER_COLLECTIONS } from './offers';
import { mongoOutbox, mongoOutboxInsert, OUTBOX_COLLECTIONS } from './outbox';
import { mongoPartners, PARTNER_COLLECTIONS } from './partners';
import { mongoPipeline, PIPELINE_COLLECTIONS } from './pipeline';
import { mongoRelationshipDocs, mongoRelationships, RELATIONSHIP_COLLECTIONS } from './relationships';
import { mongoResponses, mongoResponseWriter, RESPONSE_COLLECTIONS } from './responses';

/** Every collection with its indexes and validators, as the capabilities' files declare them. */
export const COLLECTIONS = [
  ...PARTNER_COLLECTIONS,
  ...CHANNEL_COLLECTIONS,
  ...CONVERSATION_COLLECTIONS,
  ...OFFER_COLLECTIONS,
  ...FULFILMENT_COLLECTIONS,
  ...RELATIONSHIP_COLLECTIONS,
  ...PIPELINE_COLLECTIONS,
  ...RESPONSE_COLLECTIONS,
  ...OUTBOX_COLLECTIONS,
  ...MARKETPLACE_COLLECTIONS,
];

/**
 * The production store: MongoDB through the official driver. Each capability's collections and queries sit in the
 * file named after it; a write that spans capabilities (a decision, with its response records and outbox entries) is
 * handed the other capabilities' writers and runs them in its own transaction's session (snapshot reads, majority
 * commit), which is why the server must be a replica set or a sharded cluster.
 */
export async function openMongoStore(
  uri: string,
  dbName: string,
  now: () => Date = () => new Date(),
  warn: Warn = () => undefined,
): Promise<Store> {
  const { mongo, ping, close } = await openDb(uri, dbName, now, COLLECTIONS, warn);
  const outbox = mongoOutboxInsert(mongo);
  const responses = mongoResponseWriter(mongo);
  const relationshipDocs = mongoRelationshipDocs(mongo);
  return {
    kind: 'mongo',
    ping,
    close,
    partners: mongoPartners(mongo),
    conversations: mongoConversations(mongo),
    offers: mongoOffers(mongo, { relationships: relationshipDocs, fulfilments: mongoFulfilmentInsert(mongo), responses, outbox }),
    fulfilments: mongoFulfilments(mongo, { responses, outbox }),
    relationships: mongoRelationships(mongo, { docs: relationshipDocs, responses, outbox }),
    responses: mongoResponses(mongo),
    listings: mongoListings(mongo),
    leads: mongoLeads(mongo, outbox),
    pipeline: mongoPipeline(mongo),
    outbox: mongoOutbox(mongo),
    channels: mongoChannels(mongo),
  };
}
