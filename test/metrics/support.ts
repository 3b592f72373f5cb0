// Reading /metrics in tests: a scrape through app.inject, and one sample out of the
// Prometheus text format.
import type { TestServer } from '../support/harness.js';

export const METRICS_TOKEN = 'metrics-token-0123456789-0123456789-abcdef';

export async function scrape(s: TestServer, token = METRICS_TOKEN): Promise<string> {
  const r = await s.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
  if (r.statusCode !== 200) throw new Error(`/metrics answered ${r.statusCode}: ${r.body}`);
  return r.body;
}

/**
 * The value of the sample `name` whose labels include `labels`; undefined when there is none.
 * Label values in the text format are quoted and escaped; these tests use plain ones.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** The value after `act` minus the value before (0 when the sample did not exist before). */
export async function change(s: TestServer, name: string, labels: Record<string, string>, act: () => Promise<unknown>): Promise<number | undefined> {
  const before = sample(await scrape(s), name, labels) ?? 0;
  await act();
  const after = sample(await scrape(s), name, labels);
  return after === undefined ? undefined : after - before;
}
