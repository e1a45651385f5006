import type { Relationship } from '../../src/delegation/types';
import type { Offer, Person } from '../../src/offers/types';
import { alex, megan } from './activities';

export const partnerPerson: Person = {
  aadObjectId: alex.aadObjectId,
  userId: alex.id,
  name: alex.name,
  tenantId: alex.tenantId,
  email: alex.email,
  serviceUrl: 'http://127.0.0.1:9/',
};

export const approverPerson: Person = {
  aadObjectId: megan.aadObjectId,
  userId: megan.id,
  name: megan.name,
  tenantId: megan.tenantId,
  email: megan.email,
  serviceUrl: 'http://127.0.0.1:9/',
};

export function trialOffer(over: Partial<Offer> = {}): Offer {
  return {
    id: 'T-4K7P2Q',
    kind: 'trial',
    state: 'sent',
    version: 2,
    partnerTenantId: alex.tenantId,
    partnerName: 'Fabrikam Cloud Partners',
    issuedBy: partnerPerson,
    approverEmail: megan.email,
    approver: approverPerson,
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
    id: 'D-4K7P2Q',
    kind: 'delegation',
    state: 'approvalPending',
    version: 2,
    partnerTenantId: alex.tenantId,
    partnerName: 'Fabrikam Cloud Partners',
    issuedBy: partnerPerson,
    approverEmail: megan.email,
    approver: approverPerson,
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
