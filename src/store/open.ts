import { join } from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../log';
import { openSqliteStore } from './sqlite';
import type { Store } from './types';

/** MongoDB when configured (production), otherwise the SQLite file under DATA_DIR. */
export async function openStore(config: Config, log: Logger): Promise<Store> {
  if (config.mongo) {
    // Loaded only when configured: the driver is sizeable and a SQLite deployment never needs it.
    const { openMongoStore } = await import('./mongo');
    const store = await openMongoStore(config.mongo.uri, config.mongo.dbName, undefined, (message) => log.warn(message));
    log.info({ db: config.mongo.dbName }, 'store: MongoDB');
    return store;
  }
  const file = join(config.dataDir, 'partner-offers.sqlite');
  log.info({ file }, 'store: SQLite');
  return openSqliteStore(file);
}
