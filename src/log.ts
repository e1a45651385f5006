import pino from 'pino';

export type Logger = pino.Logger;

/** JSON logs; tokens and card comments are never passed to the logger, and auth headers are redacted as a backstop. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: ['req.headers.authorization', '*.authorization', '*.password', '*.comment', '*.reason'] });
}
