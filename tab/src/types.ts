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
