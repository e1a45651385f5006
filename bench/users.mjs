// The people of the bench, as in test/support/people.ts and test/support/activities.ts: a partner user (Alex, in the tenant of
// env/partners.sample.json) and a customer approver (Megan) who has installed the app.
import { randomUUID } from 'node:crypto';

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
