import { CardFactory, type Attachment } from 'botbuilder';
import * as ACData from 'adaptivecards-templating';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CardData, CardName } from './data';

/** Teams refuses messages near 100 KB; staying under 80 KB leaves room for the activity envelope. */
export const MAX_CARD_BYTES = 80 * 1024;

export type CardJson = Record<string, unknown>;

export interface CardRenderer {
  /** The templates found in cards/. */
  names(): string[];
  /** Expands cards/<name>.json with data: the one way handlers get card JSON. The data is what that template binds. */
  render<K extends CardName>(name: K, data: CardData[K]): CardJson;
  attachment<K extends CardName>(name: K, data: CardData[K]): Attachment;
}

/** The cards/ folder next to package.json, found from here whether running from src/ or dist/. */
export function defaultCardsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    dir = resolve(dir, '..');
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'cards'))) return join(dir, 'cards');
  }
  throw new Error('Cannot find the cards/ folder next to package.json');
}

/**
 * Templates whose expansions are kept for reuse: an answered offer's card is expanded for the invoke's answer and
 * again, from the same state, for the card update the deliverer sends moments later. Expanding is most of a card's
 * cost; the copy kept is the JSON text (each caller gets its own object back, so none can change another's).
 */
const REUSED: ReadonlySet<string> = new Set(['offer']);
/**
 * Enough for the card updates a busy deliverer is behind by (it was up to about 1,000 Accepts in the card-action
 * bench): about 3 KB each, keyed by a digest of the data rather than the data itself.
 */
const REUSE_MAX = 1_024;

/** Parses every template once at startup; expansion per render is the only per-message cost. */
export function createCardRenderer(dir = defaultCardsDir()): CardRenderer {
  const templates = new Map<string, ACData.Template>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    templates.set(file.slice(0, -'.json'.length), new ACData.Template(JSON.parse(readFileSync(join(dir, file), 'utf8'))));
  }
  /** Expanded cards by template and data, least recently used first (a Map keeps insertion order). */
  const reused = new Map<string, string>();
  /** The card and its JSON text, checked against Teams' size limit. */
  const expand = (name: string, data: unknown): { card: CardJson; text: string } => {
    const template = templates.get(name);
    if (!template) throw new Error(`No card template cards/${name}.json`);
    const card = template.expand({ $root: data }) as CardJson;
    const text = JSON.stringify(card);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_CARD_BYTES) throw new Error(`Card ${name} is ${bytes} bytes, over the ${MAX_CARD_BYTES}-byte limit`);
    return { card, text };
  };
  const render = <K extends CardName>(name: K, data: CardData[K]): CardJson => {
    if (!REUSED.has(name)) return expand(name, data).card;
    const key = createHash('sha256').update(name).update('\u0000').update(JSON.stringify(data)).digest('base64');
    const text = reused.get(key);
    if (text !== undefined) {
      reused.delete(key);
      reused.set(key, text);
      return JSON.parse(text) as CardJson;
    }
    const fresh = expand(name, data);
    if (reused.size >= REUSE_MAX) reused.delete(reused.keys().next().value!);
    reused.set(key, fresh.text);
    return fresh.card;
  };
  return {
    names: () => [...templates.keys()],
    render,
    attachment: (name, data) => CardFactory.adaptiveCard(render(name, data)),
  };
}
