import { UserInputError, quoted } from '../errors';
import { shortIdPattern } from '../ids';
import { toCountry, toLanguage } from './geo';

export const FIND_EXAMPLE = 'find security exchange in DE';
/** The longest search: enough for any real one, and what the "More results" button can carry. */
export const FIND_MAX = 300;
export const LISTING_ID_PATTERN = shortIdPattern('M');
export const LEAD_ID_PATTERN = shortIdPattern('C');

/** Words that say nothing about what someone is looking for. */
const STOPWORDS = new Set([
  'a',
  'an',
  'and',
  'the',
  'for',
  'of',
  'with',
  'to',
  'or',
  'partner',
  'partners',
  'someone',
  'who',
  'can',
  'help',
  'me',
  'us',
]);
const MAX_WORDS = 10;

export interface FindCommand {
  /** Lower-cased letters-and-digits tokens: never search syntax. */
  words: string[];
  country?: string;
  language?: string;
  /** The text as typed, for "More results". */
  text: string;
}

const tokens = (s: string): string[] => (s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOPWORDS.has(w));

/**
 * `find <words> [in <country>] [language <code>]`. "in" names a country only when what follows is one (a code or an
 * English name), so "find experts in intune" still searches for intune.
 */
export function parseFind(args: string): FindCommand {
  // The query travels on the "More results" button (find.more), which takes at most FIND_MAX characters.
  if (args.trim().length > FIND_MAX) {
    throw new UserInputError(
      `A search is at most ${FIND_MAX} characters; this one has ${args.trim().length.toLocaleString('en-US')}. Use a few words.`,
      FIND_EXAMPLE,
      'Too long to search',
    );
  }
  let rest = ` ${args.trim()} `;
  let language: string | undefined;
  const lang = /\s(?:language|lang)\s+(.+?)(?=\s+in\s|\s*$)/i.exec(rest);
  if (lang) {
    language = toLanguage(lang[1]!);
    if (!language) {
      throw new UserInputError(
        `${quoted(lang[1]!)} is not a language I know. Use a two-letter code like fr or de, or a name like French.`,
        'find teams voice language fr',
      );
    }
    rest = rest.slice(0, lang.index) + ' ' + rest.slice(lang.index + lang[0].length);
  }
  let country: string | undefined;
  const inMatch = /\sin\s+(.+?)\s*$/i.exec(rest);
  if (inMatch) {
    country = toCountry(inMatch[1]!);
    if (country) rest = rest.slice(0, inMatch.index);
    else if (/^[a-z]{2}$/i.test(inMatch[1]!.trim())) {
      throw new UserInputError(
        `${quoted(inMatch[1]!)} is not a country code. Use a two-letter ISO code like DE or GB, or the country's name.`,
        FIND_EXAMPLE,
      );
    }
  }
  const words = [...new Set(tokens(rest))];
  if (words.length > MAX_WORDS) throw new UserInputError(`That is ${words.length} words; use at most ${MAX_WORDS}.`, FIND_EXAMPLE);
  if (words.length === 0 && !country && !language) {
    throw new UserInputError(
      'Tell me what you are looking for: a service, a skill or both, optionally with a country.',
      FIND_EXAMPLE,
      'Find what?',
    );
  }
  return { words, country, language, text: args.trim() };
}
