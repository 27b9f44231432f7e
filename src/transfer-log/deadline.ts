// Fail closed on a hanging Redis (DESIGN 1). node-redis drops a command's timeout once the
// command is written to the socket, so a Redis that hangs (stopped, not closed) would hold a
// caller forever; the transfer log keeps its own deadline on every write.
export function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply from redis within ${ms} ms`)), ms);
    timer.unref(); // the pending command, not this timer, is what keeps the process alive
  });
  p.catch(() => undefined); // a failure after the deadline has already been reported
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
