import { randomUUID } from 'node:crypto';
import { PARTNER_TENANT, type TeamsUser } from './people';

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

/** The partner's Sales channel, where its staff choose to hear about outcomes. */
export const SALES: TeamsChannel = {
  id: '19:fabrikam-sales@thread.tacv2',
  name: 'Sales',
  teamId: '19:fabrikam-team@thread.tacv2',
  teamName: 'Fabrikam',
  tenantId: PARTNER_TENANT,
};

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
