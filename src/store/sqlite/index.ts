import type { Store } from '../types';
import { sqliteChannels } from './channels';
import { sqliteConversations } from './conversations';
import { sqliteFulfilmentInsert, sqliteFulfilments } from './fulfilments';
import { openDb } from './db';
import { sqliteLeads, sqliteListings } from './marketplace';
import { sqliteOffers } from './offers';
import { sqliteOutbox, sqliteOutboxInsert } from './outbox';
import { sqlitePartners } from './partners';
import { sqlitePipeline } from './pipeline';
import { sqliteRelationshipRows, sqliteRelationships } from './relationships';
import { sqliteResponses, sqliteResponseWriter } from './responses';

/**
 * The embedded store: one SQLite file in WAL mode. Every multi-step write runs in `BEGIN IMMEDIATE`, which takes
 * the write lock up front, so two processes (or threads) on one file serialize instead of interleaving. Each
 * capability's statements sit in the file named after it, all on one connection; a write that spans capabilities
 * (a decision, with its response records and outbox entries) is handed the other capabilities' writers and runs them
 * inside its own transaction.
 */
export function openSqliteStore(file: string, now: () => Date = () => new Date()): Store {
  const { db, close, checkpoint } = openDb(file);
  const outbox = sqliteOutboxInsert(db, now);
  const responses = sqliteResponseWriter(db);
  const relationshipRows = sqliteRelationshipRows(db);
  return {
    kind: 'sqlite',
    ping: async () => void db.prepare('SELECT 1').get(),
    close,
    partners: sqlitePartners(db),
    channels: sqliteChannels(db),
    conversations: sqliteConversations(db),
    offers: sqliteOffers(db, { relationships: relationshipRows, fulfilments: sqliteFulfilmentInsert(db), responses, outbox }),
    fulfilments: sqliteFulfilments(db, { responses, outbox }),
    relationships: sqliteRelationships(db, { rows: relationshipRows, responses, outbox }),
    listings: sqliteListings(db),
    leads: sqliteLeads(db, outbox),
    pipeline: sqlitePipeline(db),
    responses: sqliteResponses(db),
    outbox: sqliteOutbox(db, now, checkpoint),
  };
}
