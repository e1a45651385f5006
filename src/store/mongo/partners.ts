import type { Partner } from '../../directory/store';
import type { PartnersStore } from '../../directory/store';
import { encode, fromDoc, str, type CollectionSpec, type Doc, type Mongo } from './db';

// `_id` is the partner's tenant id; the partners file replaces each at every start.
export const PARTNER_COLLECTIONS: CollectionSpec[] = [{ name: 'partners' }];

export function mongoPartners({ db }: Mongo): PartnersStore {
  const partners = db.collection<Doc>('partners');
  return {
    upsert: async (p: Partner) => {
      const id = str(p.tenantId, 'partner tenant id');
      await partners.replaceOne({ _id: id }, { _id: id, ...encode(p) }, { upsert: true });
    },
    get: async (tenantId) => fromDoc<Partner>(await partners.findOne({ _id: str(tenantId, 'tenant id') })),
  };
}
