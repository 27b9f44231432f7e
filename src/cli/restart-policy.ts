// When a dead worker is replaced and when the service gives up (issue 17 item 2). Pure: the primary
// feeds it each death's time; a crash loop stops the service instead of restarting forever (a
// worker that dies at start-up, e.g. on a bad key file, would otherwise spin the CPU and the logs).

export interface RestartPolicy {
  /** Records a death at `now` (ms); true while the service should restart the worker. */
  shouldRestart(now: number): boolean;
  /** How many deaths fell within the window at the last call (for the stop message). */
  readonly recentDeaths: number;
}

/** At most `maxDeaths - 1` deaths within `windowMs`; the `maxDeaths`-th stops the service. */
export function restartPolicy(maxDeaths = 5, windowMs = 60_000): RestartPolicy {
  const deaths: number[] = [];
  return {
    shouldRestart(now: number): boolean {
      deaths.push(now);
      while (deaths.length && deaths[0]! <= now - windowMs) deaths.shift();
      return deaths.length < maxDeaths;
    },
    get recentDeaths() { return deaths.length; },
  };
}
