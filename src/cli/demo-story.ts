// What the demo shows once the services are up. Grows with the product: readiness first.
import { fetch, Agent } from 'undici';
import { readFileSync } from 'node:fs';
import type { Gateway } from '../main.ts';
import type { Config } from '../config/schema.ts';

export interface StoryContext {
  gw: Gateway;
  url: string;
  config: Config;
  say: (s: string) => void;
  /** An admin bearer token (BOOTSTRAP_ADMIN_TOKEN or the demo's random one). */
  adminToken: string;
}

export async function runDemoStory(ctx: StoryContext): Promise<void> {
  const agent = new Agent({ connect: { ca: readFileSync(ctx.config.server.tls.ca!) } });
  try {
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${ctx.url}/readyz`, { dispatcher: agent });
      const body = await res.json();
      if (res.status === 200 || i === 49) {
        ctx.say(`readiness: ${JSON.stringify(body)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await agent.close();
  }
}
