import { quoted } from '../errors';
import { z } from 'zod';
import type { Catalog } from '../directory/catalog';
import type { Partner } from '../directory/partners';
import { DELEGATION_PROGRAMS } from '../delegation/rules';
import { countryName, languageName, toCountry, toLanguage } from './geo';
import type { Listing } from './types';

export const HEADLINE_MAX = 100;
export const DESCRIPTION_MAX = 1000;
export const TAG_MAX = 40;
export const TAGS_MAX = 10;
/** The same requester asking the same partner again within this many days gets the earlier request back. */
export const LEAD_DEDUPE_DAYS = 7;
export const NOTE_MAX = 500;

/** What the edit card submits: every input is a string (a multi-select ChoiceSet joins its values with commas). */
/**
 * The edit card's fields. The card's inputs stop at each field's limit, so only a forged or scripted request goes far
 * past it (four times, here) and is refused whole; up to that, validateListing explains each field on the card itself.
 */
const field = (what: string, max: number) =>
  z
    .string()
    .max(max * 4, `the ${what} is limited to ${max.toLocaleString('en-US')} characters`)
    .optional();
export const ListingFormSchema = z.object({
  headline: field('headline', HEADLINE_MAX),
  description: field('description', DESCRIPTION_MAX),
  services: field('list of services', 500),
  expertise: field('list of expertise tags', TAGS_MAX * (TAG_MAX + 2)),
  countries: field('list of countries', 250),
  languages: field('list of languages', 120),
  contactName: field('contact name', 80),
  contactEmail: field('contact email', 254),
});
export type ListingForm = z.infer<typeof ListingFormSchema>;
export type ListingField = keyof ListingForm;

export type ListingFields = Pick<Listing, 'headline' | 'description' | 'services' | 'expertise' | 'countries' | 'languages'> & {
  contact: { name: string; email: string };
};

const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * Checks the edit card field by field, so the card can say next to each input what is wrong; returns the cleaned
 * fields when everything is right.
 */
export function validateListing(
  form: ListingForm,
  partner: Partner,
  catalog: Catalog,
): { ok: true; fields: ListingFields } | { ok: false; errors: Partial<Record<ListingField, string>> } {
  const errors: Partial<Record<ListingField, string>> = {};
  const headline = (form.headline ?? '').trim().replace(/\s+/g, ' ');
  if (!headline) errors.headline = 'Give your listing a headline: what you do, in a line.';
  else if (headline.length > HEADLINE_MAX) errors.headline = `The headline is ${headline.length} characters; keep it to ${HEADLINE_MAX}.`;

  const description = (form.description ?? '').trim();
  if (description.length > DESCRIPTION_MAX)
    errors.description = `The description is ${description.length} characters; keep it to ${DESCRIPTION_MAX}.`;

  const services = [...new Set(list(form.services))];
  const unknown = services.filter((id) => !catalog.services.some((s) => s.id === id));
  const notAuthorized = services.filter((id) => !unknown.includes(id) && !partner.authorizedServices.includes(id));
  if (services.length === 0) errors.services = 'Pick at least one service you offer.';
  else if (unknown.length)
    errors.services = `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a service' : 'are not services'} in the catalog.`;
  else if (notAuthorized.length) errors.services = `${partner.name} is not authorized to provide ${notAuthorized.join(', ')}.`;

  const expertise = [...new Set(list(form.expertise).map((t) => t.replace(/\s+/g, ' ')))];
  const longTag = expertise.find((t) => t.length > TAG_MAX);
  if (expertise.length > TAGS_MAX) errors.expertise = `Use at most ${TAGS_MAX} expertise tags; you have ${expertise.length}.`;
  else if (longTag) errors.expertise = `${quoted(longTag, 50)} is too long for a tag; keep each to ${TAG_MAX} characters.`;

  const countryInput = list(form.countries);
  const countries = countryInput.map((c) => toCountry(c));
  const badCountries = countryInput.filter((_, i) => !countries[i]);
  if (countryInput.length === 0) errors.countries = 'Name at least one country you serve, as ISO codes like DE, GB, US.';
  else if (badCountries.length)
    errors.countries = `${badCountries.map((c) => quoted(c, 20)).join(', ')} ${badCountries.length === 1 ? 'is not an ISO country code' : 'are not ISO country codes'}. Use two-letter codes like DE, GB, US.`;

  const languageInput = list(form.languages);
  const languages = languageInput.map((l) => toLanguage(l));
  const badLanguages = languageInput.filter((_, i) => !languages[i]);
  if (badLanguages.length)
    errors.languages = `${badLanguages.map((l) => quoted(l, 20)).join(', ')} ${badLanguages.length === 1 ? 'is not a language code' : 'are not language codes'}. Use two-letter codes like en, de, fr.`;

  const contactName = (form.contactName ?? '').trim();
  if (!contactName) errors.contactName = 'Who should customers hear from? Give a name.';
  else if (contactName.length > 80) errors.contactName = 'Keep the contact name to 80 characters.';
  const contactEmail = (form.contactEmail ?? '').trim().toLowerCase();
  if (!z.email().safeParse(contactEmail).success)
    errors.contactEmail = contactEmail
      ? `${quoted(contactEmail, 80)} is not an email address.`
      : "Give the contact person's email address.";

  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    fields: {
      headline,
      description,
      services,
      expertise,
      countries: [...new Set(countries as string[])],
      languages: [...new Set(languages as string[])],
      contact: { name: contactName, email: contactEmail },
    },
  };
}

/** What a listing still needs before it can be published. */
export function missingForPublish(l: Listing | null): string[] {
  if (!l) return ['a headline', 'the services you offer', 'the countries you serve', 'a contact person'];
  const missing: string[] = [];
  if (!l.headline) missing.push('a headline');
  if (l.services.length === 0) missing.push('the services you offer');
  if (l.countries.length === 0) missing.push('the countries you serve');
  if (!l.contact.email) missing.push('a contact person');
  return missing;
}

export const canDelegate = (partner: Partner): boolean =>
  partner.programs.some((p) => (DELEGATION_PROGRAMS as readonly string[]).includes(p));

export const describeCountries = (codes: string[]): string => codes.map((c) => `${countryName(c)} (${c})`).join(', ');
export const describeLanguages = (codes: string[]): string => codes.map((c) => languageName(c)).join(', ');

/**
 * A Teams deep link that opens a 1:1 chat with this address (the Teams client asks whether to start one): the lead
 * card's "Chat with ‹name›" and the Offers tab's Leads view both use it.
 */
export const chatLink = (email: string): string => `https://teams.microsoft.com/l/chat/0/0?users=${encodeURIComponent(email)}`;
