// An error the console shows as a page (403 refused, 404, 400 bad filter) rather than problem+json:
// the console's users are in a browser. The message is ours, never a request value (RULES 24).
export class ConsolePageError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
