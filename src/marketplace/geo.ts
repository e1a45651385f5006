/** ISO 3166-1 alpha-2: the codes listings may name (Intl also names regions that are not countries, like EU). */
const ISO_COUNTRIES = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC ' +
    'CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE ' +
    'GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM ' +
    'KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ ' +
    'NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH ' +
    'SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG ' +
    'VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

const countryByName = new Map([...ISO_COUNTRIES].map((code) => [regionNames.of(code)!.toLowerCase(), code]));
const LANGUAGE_CODES = (() => {
  const codes: string[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (const a of letters) for (const b of letters) if (languageNames.of(a + b) && languageNames.of(a + b) !== a + b) codes.push(a + b);
  return new Set(codes);
})();
const languageByName = new Map([...LANGUAGE_CODES].map((code) => [languageNames.of(code)!.toLowerCase(), code]));

/** "DE", "de" or "Germany" -> "DE"; anything else -> undefined. */
export function toCountry(raw: string): string | undefined {
  const t = raw.trim();
  if (/^[a-z]{2}$/i.test(t) && ISO_COUNTRIES.has(t.toUpperCase())) return t.toUpperCase();
  return countryByName.get(t.toLowerCase().replace(/\s+/g, ' '));
}

/** "fr", "FR" or "French" -> "fr" (ISO 639-1); anything else -> undefined. */
export function toLanguage(raw: string): string | undefined {
  const t = raw.trim().toLowerCase();
  if (/^[a-z]{2}$/.test(t) && LANGUAGE_CODES.has(t)) return t;
  return languageByName.get(t);
}

export const countryName = (code: string): string => regionNames.of(code) ?? code;
export const languageName = (code: string): string => languageNames.of(code) ?? code;
