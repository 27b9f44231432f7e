// The HTTP metrics of a finished request (CONTRACT 8): labels are route templates and statuses only.
// Issue 17 item 4: prom-client hashes a label object on every inc/observe; the children for each
// (route, status) are looked up once and kept, so a request costs one Map lookup.
import type { Counter, Histogram } from 'prom-client';
import type { RequestObserver } from './request-id.ts';

export interface HttpMetrics {
  httpRequests: Counter<'route' | 'status'>;
  httpDuration: Histogram<'route'>;
}

export function httpObserver(m: HttpMetrics): RequestObserver {
  const children = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  return (route, status, seconds) => {
    const key = `${status} ${route}`;
    let c = children.get(key);
    if (!c) {
      c = { count: m.httpRequests.labels({ route, status: String(status) }), time: m.httpDuration.labels({ route }) };
      children.set(key, c);
    }
    c.count.inc();
    c.time.observe(seconds);
  };
}
