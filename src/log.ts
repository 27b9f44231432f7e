// Structured JSON logs without personal data (RULES 24). Only ids of requests, partners and
// agreements, reason codes and counts are logged; secrets and headers are redacted as a backstop.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'partner-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'token', 'clientSecret', 'password', '*.token'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
