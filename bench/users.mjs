// The people of the card-action bench at production shape: partner staff who issue offers (each with the bot installed
// in their personal chat, in the tenant of a partner of env/partners.sample.json) and customer approvers spread over
// many customer tenants (each with the bot installed, so conversation capture and delivery need no roster lookup).
import { randomUUID } from 'node:crypto';

/** The people of the other benches (bench:notify, bench:find), as in test/support/people.ts. */
export const PARTNER_TENANT = '00000000-0000-0000-0000-0000000000001';
export const CUSTOMER_TENANT = '7a1c5e2b-0000-4000-8000-00000000c0de';

export const alex = {
  name: 'Alex Wilber',
  aadObjectId: '00000000-0000-0000-0000-0000000000020',
  id: '29:alex',
  email: 'alexw@example.com',
  tenantId: PARTNER_TENANT,
  conversationId: 'a:personal-alex',
};

export const megan = {
  name: 'Megan Bowen',
  aadObjectId: 'c0000000-0000-4000-8000-000000000001',
  id: '29:megan',
  email: 'admin@contoso.com',
  tenantId: CUSTOMER_TENANT,
  conversationId: 'a:personal-megan',
};

export const BOT = { id: '28:partner-offers', name: 'Partner Offers' };

/** A UUID-shaped id that is the same in every process for the same (kind, number). */
const uuid = (kind, n) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** `count` partner users, spread round-robin over the partners' tenants (an issuer always belongs to its partner). */
export function partnerStaff(partnerTenantIds, count) {
  return Array.from({ length: count }, (_, i) => ({
    name: `Partner User ${i + 1}`,
    aadObjectId: uuid(0xa1, i),
    id: `29:partner-${i}`,
    email: `staff${i}@partner${i % partnerTenantIds.length}.example`,
    tenantId: partnerTenantIds[i % partnerTenantIds.length],
    conversationId: `a:personal-partner-${i}`,
  }));
}

/** `count` customer approvers in `tenants` customer tenants (approver i is in tenant i mod tenants). */
export function approvers(count, tenants) {
  return Array.from({ length: count }, (_, i) => {
    const t = i % tenants;
    return {
      name: `Buyer ${i + 1}`,
      aadObjectId: uuid(0xc1, i),
      id: `29:buyer-${i}`,
      email: `buyer${i}@customer${t}.example`,
      tenantId: uuid(0xc7, t),
      conversationId: `a:personal-buyer-${i}`,
    };
  });
}

/** The invoke Teams posts when `as` clicks an Action.Execute button (same shape as the tests' cardAction). */
export const cardAction = (verb, data, as, serviceUrl, replyToId) => ({
  id: randomUUID(),
  timestamp: new Date().toISOString(),
  channelId: 'msteams',
  serviceUrl,
  from: { id: as.id, name: as.name, aadObjectId: as.aadObjectId },
  recipient: BOT,
  conversation: { id: as.conversationId, conversationType: 'personal', tenantId: as.tenantId },
  channelData: { tenant: { id: as.tenantId } },
  type: 'invoke',
  name: 'adaptiveCard/action',
  replyToId,
  value: { action: { type: 'Action.Execute', id: randomUUID(), verb, data }, trigger: 'manual' },
});
