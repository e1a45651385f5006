// The people the bot's tests talk as: partner staff and customer users, in the tenants of env/partners.sample.json.
// The store's contract suite keeps its own (test/store/support/fixtures.ts): its tenants and emails are spelled out in
// the contract's expectations.
import type { Person } from '../../src/offers/types';

export const PARTNER_TENANT = '00000000-0000-0000-0000-0000000000001';
export const CUSTOMER_TENANT = '7a1c5e2b-0000-4000-8000-00000000c0de';
/** The second sample partner, Northwind Managed Services, which lists admin agents. */
export const NORTHWIND_TENANT = '00000000-0000-0000-0000-0000000000003';
/** A customer in Office 365 operated by 21Vianet (tests list it in SOVEREIGN_TENANTS). */
export const SOVEREIGN_TENANT = '5a1c5e2b-0000-4000-8000-0000000021c1';

/** A person in Teams, named as the activities Teams sends name them. */
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

/** A user whose Bot Framework id and personal chat are named after `handle`, as Teams would give them. */
const teamsUser = (handle: string, name: string, email: string, tenantId: string, aadObjectId: string): TeamsUser => ({
  name,
  aadObjectId,
  id: `29:${handle}`,
  email,
  tenantId,
  conversationId: `a:personal-${handle}`,
});

/** Fabrikam Cloud Partners staff. */
export const alex = teamsUser('alex', 'Alex Wilber', 'alexw@example.com', PARTNER_TENANT, '00000000-0000-0000-0000-0000000000020');
/** The customer's approver: offers and requests to admin@contoso.com reach her. */
export const megan = teamsUser('megan', 'Megan Bowen', 'admin@contoso.com', CUSTOMER_TENANT, 'c0000000-0000-4000-8000-000000000001');
/** A colleague of the approver. */
export const lee = teamsUser('lee', 'Lee Gu', 'lee@contoso.com', CUSTOMER_TENANT, 'c0000000-0000-4000-8000-000000000002');
/** Northwind staff, one of its admin agents. */
export const nestor = teamsUser(
  'nestor',
  'Nestor Wilke',
  'nestorw@northwind.example',
  NORTHWIND_TENANT,
  '00000000-0000-0000-0000-0000000000040',
);
/** Northwind staff, but not one of its admin agents. */
export const grady = teamsUser(
  'grady',
  'Grady Archie',
  'gradya@northwind.example',
  NORTHWIND_TENANT,
  '00000000-0000-0000-0000-0000000000042',
);
/** A second approver in the customer's tenant, who installs the app late. */
export const patti = teamsUser('patti', 'Patti Fernandez', 'patti@contoso.com', CUSTOMER_TENANT, 'c0000000-0000-4000-8000-000000000003');
/** Someone from a third tenant, neither a partner nor a customer of anyone here: must learn nothing. */
export const mallory = teamsUser(
  'mallory',
  'Mallory Intruder',
  'mallory@elsewhere.example',
  'e0000000-0000-4000-8000-0000000000e1',
  'e0000000-0000-4000-8000-00000000e0e0',
);
/** A customer user in 21Vianet. */
export const wei = teamsUser('wei', 'Wei Zhang', 'wei@contoso.cn', SOVEREIGN_TENANT, 'c0000000-0000-4000-8000-0000000021c1');

/** A user as the bot records them on an offer or a relationship (issuer, approver), reached at `serviceUrl`. */
export const asPerson = (u: TeamsUser, serviceUrl: string): Person => ({
  aadObjectId: u.aadObjectId,
  userId: u.id,
  name: u.name,
  tenantId: u.tenantId,
  email: u.email,
  serviceUrl,
});
