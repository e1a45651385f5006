import type { NotificationChannel } from '../../directory/types';
import type { ChannelsStore } from '../../notifications/store';
import { encode, fromDoc, str, type CollectionSpec, type Doc, type Mongo } from './db';

// Apart from `partners`, which the partners file replaces at every start: `_id` is the partner's tenant id.
export const CHANNEL_COLLECTIONS: CollectionSpec[] = [{ name: 'notificationChannels' }];

export function mongoChannels({ db }: Mongo): ChannelsStore {
  const channels = db.collection<Doc>('notificationChannels');
  return {
    set: async (tenantId, channel) => {
      const id = str(tenantId, 'partner tenant id');
      if (channel === null) await channels.deleteOne({ _id: id });
      else await channels.replaceOne({ _id: id }, { _id: id, ...encode(channel) }, { upsert: true });
    },
    get: async (tenantId) => fromDoc<NotificationChannel>(await channels.findOne({ _id: str(tenantId, 'tenant id') })),
  };
}
