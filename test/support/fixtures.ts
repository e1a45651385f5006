import type { Relationship } from '../../src/delegation/types';
import type { Offer } from '../../src/offers/types';
import { alex, asPerson, megan } from './people';

/** Alex and Megan on records built without a bot: their serviceUrl is a closed port. */
export const partnerPerson = asPerson(alex, 'http://127.0.0.1:9/');
export const approverPerson = asPerson(megan, 'http://127.0.0.1:9/');

/** How every record here begins: its id, kind and state, at version 2, sent by Fabrikam's Alex to Megan at Contoso. */
const sentByAlex = <K extends string, S extends string>(id: string, kind: K, state: S) => ({
  id,
  kind,
  state,
  version: 2,
  partnerTenantId: alex.tenantId,
  partnerName: 'Fabrikam Cloud Partners',
  issuedBy: partnerPerson,
  approverEmail: megan.email,
  approver: approverPerson,
});

export function trialOffer(over: Partial<Offer> = {}): Offer {
  return {
    ...sentByAlex('T-4K7P2Q', 'trial', 'sent'),
    lines: [
      { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', trialDays: 30 },
      { serviceId: 'teams-essentials', serviceName: 'Microsoft Teams Essentials', trialDays: 30 },
    ],
    currency: 'USD',
    createdAt: '2026-11-25T09:00:00.000Z',
    expiresAt: '2026-12-25T09:00:00.000Z',
    deliveredAt: '2026-11-25T09:00:00.000Z',
    pendingKey: 'k-trial',
    ...over,
  };
}

export function purchaseOffer(over: Partial<Offer> = {}): Offer {
  return trialOffer({
    id: 'P-8M3N5R',
    kind: 'purchase',
    term: 'P1Y',
    billing: 'annual',
    lines: [
      { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', quantity: 25, unitPriceCents: 2200 },
      { serviceId: 'exchange-online-p1', serviceName: 'Exchange Online (Plan 1)', quantity: 10, unitPriceCents: 400 },
    ],
    pendingKey: 'k-purchase',
    ...over,
  });
}

/** A delegated-admin request as the bot stores it; override what a test is about. */
export function delegation(over: Partial<Relationship> = {}): Relationship {
  return {
    ...sentByAlex('D-4K7P2Q', 'delegation', 'approvalPending'),
    customerTenantId: megan.tenantId,
    access: { kind: 'roles', roles: ['Exchange Administrator', 'User Administrator'] },
    durationDays: 365,
    autoExtend: true,
    createdAt: '2026-11-25T09:00:00.000Z',
    requestExpiresAt: '2027-02-23T09:00:00.000Z',
    deliveredAt: '2026-11-25T09:00:00.000Z',
    dueAt: '2027-02-23T09:00:00.000Z',
    pendingKey: 'k-delegation',
    ...over,
  };
}

export function partnerOfRecord(over: Partial<Relationship> = {}): Relationship {
  const { access: _a, durationDays: _d, autoExtend: _x, ...base } = delegation();
  return { ...base, id: 'R-4K7P2Q', kind: 'por', pendingKey: 'k-por', ...over };
}
