import { randomUUID } from 'node:crypto';

export interface TeamsUser {
  name: string;
  aadObjectId: string;
  /** Bot Framework user id. */
  id: string;
  email: string;
  tenantId: string;
  /** Their personal chat with the bot. */
  conversationId: string;
}

export const PARTNER_TENANT = '00000000-0000-0000-0000-0000000000001';
export const CUSTOMER_TENANT = '7a1c5e2b-0000-4000-8000-00000000c0de';

export const alex: TeamsUser = {
  name: 'Alex Wilber',
  aadObjectId: '00000000-0000-0000-0000-0000000000020',
  id: '29:alex',
  email: 'alexw@example.com',
  tenantId: PARTNER_TENANT,
  conversationId: 'a:personal-alex',
};
export const megan: TeamsUser = {
  name: 'Megan Bowen',
  aadObjectId: 'c0000000-0000-4000-8000-000000000001',
  id: '29:megan',
  email: 'admin@contoso.com',
  tenantId: CUSTOMER_TENANT,
  conversationId: 'a:personal-megan',
};
export const lee: TeamsUser = {
  name: 'Lee Gu',
  aadObjectId: 'c0000000-0000-4000-8000-000000000002',
  id: '29:lee',
  email: 'lee@contoso.com',
  tenantId: CUSTOMER_TENANT,
  conversationId: 'a:personal-lee',
};

/** The second sample partner, Northwind Managed Services, which lists admin agents. */
export const NORTHWIND_TENANT = '00000000-0000-0000-0000-0000000000003';
/** A customer in Office 365 operated by 21Vianet (tests list it in SOVEREIGN_TENANTS). */
export const SOVEREIGN_TENANT = '5a1c5e2b-0000-4000-8000-0000000021c1';

export const nestor: TeamsUser = {
  name: 'Nestor Wilke',
  aadObjectId: '00000000-0000-0000-0000-0000000000040',
  id: '29:nestor',
  email: 'nestorw@northwind.example',
  tenantId: NORTHWIND_TENANT,
  conversationId: 'a:personal-nestor',
};
/** Northwind staff, but not one of its admin agents. */
export const grady: TeamsUser = {
  name: 'Grady Archie',
  aadObjectId: '00000000-0000-0000-0000-0000000000042',
  id: '29:grady',
  email: 'gradya@northwind.example',
  tenantId: NORTHWIND_TENANT,
  conversationId: 'a:personal-grady',
};
/** A second approver in the customer's tenant, who installs the app late. */
export const patti: TeamsUser = {
  name: 'Patti Fernandez',
  aadObjectId: 'c0000000-0000-4000-8000-000000000003',
  id: '29:patti',
  email: 'patti@contoso.com',
  tenantId: CUSTOMER_TENANT,
  conversationId: 'a:personal-patti',
};
/** Someone from a third tenant, neither a partner nor a customer of anyone here: must learn nothing. */
export const mallory: TeamsUser = {
  name: 'Mallory Intruder',
  aadObjectId: 'e0000000-0000-4000-8000-00000000e0e0',
  id: '29:mallory',
  email: 'mallory@elsewhere.example',
  tenantId: 'e0000000-0000-4000-8000-0000000000e1',
  conversationId: 'a:personal-mallory',
};
export const wei: TeamsUser = {
  name: 'Wei Zhang',
  aadObjectId: 'c0000000-0000-4000-8000-0000000021c1',
  id: '29:wei',
  email: 'wei@contoso.cn',
  tenantId: SOVEREIGN_TENANT,
  conversationId: 'a:personal-wei',
};

const BOT = { id: '28:partner-offers', name: 'Partner Offers' };

/** The parts every activity Teams sends shares, from one user's personal chat. */
function base(as: TeamsUser, serviceUrl: string, conversationId = as.conversationId) {
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl,
    from: { id: as.id, name: as.name, aadObjectId: as.aadObjectId },
    recipient: BOT,
    conversation: { id: conversationId, conversationType: 'personal', tenantId: as.tenantId },
    channelData: { tenant: { id: as.tenantId } },
  };
}

export const message = (text: string, as: TeamsUser, serviceUrl: string) => ({ ...base(as, serviceUrl), type: 'message', text });

export const cardAction = (
  verb: string,
  data: Record<string, unknown>,
  as: TeamsUser,
  serviceUrl: string,
  o: { replyToId?: string; conversationId?: string; trigger?: 'manual' | 'automatic' } = {},
) => ({
  ...base(as, serviceUrl, o.conversationId),
  type: 'invoke',
  name: 'adaptiveCard/action',
  replyToId: o.replyToId,
  value: { action: { type: 'Action.Execute', id: randomUUID(), verb, data }, trigger: o.trigger ?? 'manual' },
});

/** Install events carry no user name (Teams and the Agents Playground both leave it out): the roster supplies it. */
const nameless = (as: TeamsUser) => ({ id: as.id, aadObjectId: as.aadObjectId });

export const installationUpdate = (action: 'add' | 'remove', as: TeamsUser, serviceUrl: string) => ({
  ...base(as, serviceUrl),
  from: nameless(as),
  type: 'installationUpdate',
  action,
});

export const conversationUpdate = (as: TeamsUser, serviceUrl: string) => ({
  ...base(as, serviceUrl),
  from: nameless(as),
  type: 'conversationUpdate',
  membersAdded: [{ id: BOT.id }, { id: as.id, aadObjectId: as.aadObjectId }],
});

/** A team channel of a partner tenant, as Teams addresses it. */
export interface TeamsChannel {
  id: string;
  name: string;
  teamId: string;
  teamName: string;
  tenantId: string;
}

/** A message that @mentions the bot in a channel thread: Teams puts the thread in the conversation id. */
export const channelMessage = (text: string, as: TeamsUser, serviceUrl: string, channel: TeamsChannel) => ({
  ...base(as, serviceUrl, `${channel.id};messageid=${Date.now()}`),
  type: 'message',
  text: `<at>Partner Offers</at> ${text}`,
  entities: [{ type: 'mention', mentioned: BOT, text: '<at>Partner Offers</at>' }],
  conversation: { id: `${channel.id};messageid=${Date.now()}`, conversationType: 'channel', isGroup: true, tenantId: channel.tenantId },
  channelData: {
    tenant: { id: channel.tenantId },
    channel: { id: channel.id, name: channel.name },
    team: { id: channel.teamId, name: channel.teamName },
  },
});
