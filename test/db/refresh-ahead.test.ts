// The in-memory copies read on every request (clients, signing keys) refresh in the background:
// a request never waits on the database once a copy exists, a herd of requests starts one load,
// a reload after a write sees the write, and a failed refresh keeps the old copy.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RefreshAhead } from '../../src/db/refresh-ahead.js';
import { ClientCache, type Client, type ClientsRepository } from '../../src/repositories/clients.js';

/** A load that does not finish until the test says so. */
function gatedLoader() {
  const gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const load = vi.fn(() => new Promise<void>((resolve, reject) => gates.push({ resolve, reject })));
  return { load, gates };
}
const tick = () => new Promise((r) => setImmediate(r));

/** A copy loaded once (max age 1 s) and then, by the clock, old: the next read refreshes it. */
async function loadedThenOld() {
  vi.useFakeTimers({ toFake: ['Date'] });
  const { load, gates } = gatedLoader();
  const r = new RefreshAhead(load, 1000);
  const first = r.due();
  gates[0]!.resolve();
  await first;
  vi.setSystemTime(Date.now() + 1001);
  return { r, load, gates };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RefreshAhead', () => {
  it('makes the first read wait for the first load, and fails it when that load fails', async () => {
    const { load, gates } = gatedLoader();
    const r = new RefreshAhead(load, 1000);
    const first = r.due();
    expect(first).toBeInstanceOf(Promise);
    gates[0]!.reject(new Error('database away'));
    await expect(first).rejects.toThrow('database away');
    const again = r.due();
    gates[1]!.resolve();
    await again;
    expect(r.due()).toBeUndefined();
  });

  it('serves the old copy while one background load runs, however many reads come in', async () => {
    const { r, load, gates } = await loadedThenOld();
    for (let i = 0; i < 20; i++) expect(r.due()).toBeUndefined();
    expect(load).toHaveBeenCalledTimes(2);
    gates[1]!.resolve();
    await tick();
    expect(r.due()).toBeUndefined();
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('reload() after a write waits out a load that may have read before it, then loads again', async () => {
    const { r, load, gates } = await loadedThenOld();
    r.due(); // a background load starts (and reads the old rows)
    let reloaded = false;
    const reload = r.reload().then(() => (reloaded = true));
    gates[1]!.resolve();
    await tick();
    expect(load).toHaveBeenCalledTimes(3); // not joined: a load of its own
    expect(reloaded).toBe(false);
    gates[2]!.resolve();
    await reload;
    expect(reloaded).toBe(true);
  });

  it('keeps the old copy when a background load fails, and tries again a second later, not on every read', async () => {
    const { r, load, gates } = await loadedThenOld();
    expect(r.due()).toBeUndefined();
    gates[1]!.reject(new Error('database away')); // no unhandled rejection: vitest would fail the run
    await tick();
    for (let i = 0; i < 5; i++) expect(r.due()).toBeUndefined();
    expect(load).toHaveBeenCalledTimes(2);
    vi.setSystemTime(Date.now() + 1001);
    expect(r.due()).toBeUndefined();
    expect(load).toHaveBeenCalledTimes(3);
  });
});

describe('ClientCache', () => {
  it('answers from the old copy while the database is slow, and shows the new registry once it has loaded', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const client = (id: string) => ({ client_id: id, enabled: true, redirect_uris: [] }) as unknown as Client;
    let rows = [client('a')];
    let release: (() => void) | undefined;
    const repo = {
      findAll: vi.fn(async () => {
        const snapshot = rows;
        if (release === undefined) return snapshot;
        await new Promise<void>((r) => (release = r));
        return snapshot;
      }),
    } as unknown as ClientsRepository;
    const cache = new ClientCache(repo);
    await cache.reload();
    rows = [client('b')];
    release = () => {}; // the next findAll hangs until released
    vi.setSystemTime(Date.now() + ClientCache.TTL_MS + 1);
    // the read does not wait for the hanging query
    expect((await cache.get('a'))?.client_id).toBe('a');
    expect(await cache.get('b')).toBeUndefined();
    expect(repo.findAll).toHaveBeenCalledTimes(2);
    release();
    await tick();
    expect(await cache.get('a')).toBeUndefined();
    expect((await cache.get('b'))?.client_id).toBe('b');
  });
});
