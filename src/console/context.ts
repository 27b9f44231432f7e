// What the console's pages use, each a narrow piece (DESIGN: a module asks for what it uses).
// Built once in router.ts from what app.ts hands over.
import type { Logger } from '../log.ts';
import type { TransferLog } from '../transfer-log/index.ts';
import type { Cursors } from '../http/cursor-param.ts';
import type { AssetTable } from './assets.ts';
import type { ConsoleAuth } from './console-auth.ts';
import type { ConsoleAudit } from './console-audit.ts';

export interface ConsolePageContext {
  assets: AssetTable;
  auth: ConsoleAuth;
  audit: ConsoleAudit;
  /** The log's query API (page, latestId, follow, export) and its filter compiler. */
  transferLog: Pick<TransferLog, 'query'>;
  cursors: Cursors;
  log: Logger;
}
