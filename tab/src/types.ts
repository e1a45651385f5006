/** The API's answers, as src/dashboard/api.ts and rows.ts shape them. */

export interface Me {
  mode: 'sso' | 'development';
  user: { name: string; upn?: string; tenantId: string };
  partner: { name: string; tenantId: string };
  statuses: Array<{ value: string; label: string }>;
}

export interface Summary {
  offers: {
    total: number;
    awaitingDelivery: number;
    waiting: number;
    accepted: number;
    declined: number;
    expired: number;
    withdrawn: number;
  };
  acceptanceRate: number | null;
  relationships: { active: number; waiting: number; expiring: { within1: number; within7: number; within30: number } };
  /** Purchase offers' monthly-equivalent list value in cents, per month (`YYYY-MM`), oldest first. */
  value: { currency: string; months: Array<{ month: string; accepted: number; pending: number; placed: number }> };
}

export interface Row {
  id: string;
  kind: 'trial' | 'purchase' | 'delegation' | 'por';
  state: string;
  status: string;
  statusLabel: string;
  customer: string;
  customerTenantId?: string;
  what: string;
  issuedBy: string;
  createdAt: string;
  decidedAt?: string;
  expiresAt?: string;
  endsAt?: string;
  /** An accepted offer's order at Microsoft, where it stands (partners connected to Partner Center). */
  order?: string;
  orderValueCents?: number;
  currency?: string;
}

export interface RowsPage {
  rows: Row[];
  total: number;
  next?: string;
}

export interface History {
  id: string;
  records: Array<{ at: string; decision: string; by: string; comment?: string }>;
}

export interface Overview {
  me: Me;
  summary: Summary;
  page: RowsPage;
}

export interface Lead {
  id: string;
  name: string;
  email: string;
  organisation: string;
  note?: string;
  found?: string;
  trialOfferId?: string;
  createdAt: string;
  stage: { value: 'new' | 'contacted' | 'won' | 'lost'; label: string; by?: string; at?: string };
  /** A Teams deep link to a 1:1 chat with them. */
  chatLink: string;
}

export interface LeadsPage {
  leads: Lead[];
  /** More leads exist than the page holds. */
  more: boolean;
}
