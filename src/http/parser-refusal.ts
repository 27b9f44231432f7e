// Answers Node's HTTP parser gives before express sees a request (headers over the size limit, a
// malformed request line or header, oversized chunk extensions, a request that took too long to
// arrive) as RFC 9457 problem+json, like every other refusal (CONTRACT 6), not a bare status line.
// Nothing of the request is in the body or the log (RULES 24): the parser error's message and
// rawPacket quote it, so only a code derived from err.code leaves.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';

/** What the parser refused, by the status it gets (documented as the listener's x-listener-responses). */
export const PARSER_REFUSALS = {
  400: { code: 'malformed_request', title: 'Bad Request', detail: 'the request line or a header is malformed' },
  408: { code: 'request_timeout', title: 'Request Timeout', detail: 'the request did not arrive in time' },
  413: { code: 'payload_too_large', title: 'Payload Too Large', detail: 'the chunk extensions of the body exceed the size limit' },
  431: { code: 'request_header_too_large', title: 'Request Header Fields Too Large', detail: 'the request line and headers exceed the size limit' },
} as const;

export type ParserRefusalStatus = keyof typeof PARSER_REFUSALS;

/** Which refusal a parser error is: the statuses Node's own handler gives (_http_server.js), anything else a 400. */
export function refusalStatus(code: string | undefined): ParserRefusalStatus {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_REQUEST_TIMEOUT') return 408;
  return 400;
}

/** A complete HTTP/1.1 response; the connection closes after it (the parser's state is unknown). */
export function refusalResponse(status: ParserRefusalStatus, requestId: string): string {
  const r = PARSER_REFUSALS[status];
  const body = JSON.stringify({ type: `urn:partner-gateway:problem:${r.code}`, title: r.title, status, detail: r.detail, code: r.code, requestId });
  return [
    `HTTP/1.1 ${status} ${r.title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    // RULES 37: HSTS on every answer of the listener, this one too.
    'Strict-Transport-Security: max-age=63072000; includeSubDomains',
    'X-Content-Type-Options: nosniff',
    `x-request-id: ${requestId}`,
    'Connection: close',
    '', body,
  ].join('\r\n');
}

/** Replace Node's default clientError answer on `server` (both gateway listeners). */
export function answerParserRefusals(server: Server, log: Logger): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    // A reset peer cannot be answered; nor can a socket whose response already began (Node's own rule).
    const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || started) {
      socket.destroy();
      return;
    }
    const status = refusalStatus(err.code);
    const requestId = randomUUID();
    log.info({ requestId, status, code: PARSER_REFUSALS[status].code }, 'request refused by the HTTP parser');
    socket.end(refusalResponse(status, requestId));
  });
}
