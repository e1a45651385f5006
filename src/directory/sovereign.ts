import { UserInputError } from '../errors';
import type { Partner } from './partners';

export const SOVEREIGN_TITLE = 'Not available in this cloud';

/** Office 365 operated by 21Vianet: by the partner registry's flag, or by the configured list of tenant ids. */
export const isSovereign = (tenantId: string, sovereignTenants: readonly string[], partner?: Partner | null): boolean =>
  partner?.cloud === '21vianet' || sovereignTenants.includes(tenantId);

/** Delegated admin and partner features are not offered in Office 365 operated by 21Vianet. */
export function assertPartnerFeaturesAvailable(partner: Partner, sovereignTenants: readonly string[]): void {
  if (isSovereign(partner.tenantId, sovereignTenants, partner)) {
    throw new UserInputError(
      'Partner features are not available in Office 365 operated by 21Vianet, so offers and requests cannot be sent from this organisation.',
      undefined,
      SOVEREIGN_TITLE,
    );
  }
}

/** Said to anyone in a 21Vianet tenant who uses a partner feature; nothing is sent or recorded. */
export const sovereignRefusal = (): UserInputError =>
  new UserInputError(
    'Partner features (trial invitations, purchase offers, delegated administration, partner of record and the marketplace) are not available in Office 365 operated by 21Vianet. Type support to see how to reach Microsoft support.',
    'support',
    SOVEREIGN_TITLE,
  );
