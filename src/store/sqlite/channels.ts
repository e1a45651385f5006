import type { NotificationChannel } from '../../directory/types';
import type { ChannelsStore } from '../../notifications/store';
import { parse, type Db, type Row } from './db';

export function sqliteChannels(db: Db): ChannelsStore {
  const q = {
    // A table of its own (migration 5), so the partners file upserted at every start never touches it.
    channelSet: db.prepare<{ tenantId: string; doc: string }>(
      'INSERT INTO partner_channels (tenant_id, doc) VALUES (@tenantId, @doc) ON CONFLICT (tenant_id) DO UPDATE SET doc = excluded.doc',
    ),
    channelClear: db.prepare<[string]>('DELETE FROM partner_channels WHERE tenant_id = ?'),
    channelGet: db.prepare<[string], Row>('SELECT doc FROM partner_channels WHERE tenant_id = ?'),
  };
  return {
    set: async (tenantId, channel) =>
      void (channel === null ? q.channelClear.run(tenantId) : q.channelSet.run({ tenantId, doc: JSON.stringify(channel) })),
    get: async (tenantId) => parse<NotificationChannel>(q.channelGet.get(tenantId)),
  };
}
