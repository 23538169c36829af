import { expect, it, vi } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/principals/api-keys.ts';
import { keyLookup } from '../../src/principals/key-cache.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase('kept API keys', (database) => {
  it('accepts a key revoked elsewhere until its entry expires, and forgets on demand', async () => {
    const db = database().db;
    const created = await createApiKey(db, { role: 'analyst', name: 'kept' });
    const keys = keyLookup(db, 60_000);
    expect(await keys.authenticate(created.key)).toEqual(created.principal);
    // Revoked through another gateway: this one still holds the key it found valid.
    await revokeApiKey(db, created.principal.id, 'council');
    expect(await keys.authenticate(created.key)).toEqual(created.principal);
    keys.forget();
    expect(await keys.authenticate(created.key)).toBeUndefined();
  });

  it('looks the key up again once its entry is older than the time to keep it', async () => {
    const db = database().db;
    const created = await createApiKey(db, { role: 'analyst', name: 'expiring' });
    const keys = keyLookup(db, 1_000);
    const now = vi.spyOn(performance, 'now');
    try {
      now.mockReturnValue(10_000);
      expect(await keys.authenticate(created.key)).toEqual(created.principal);
      await revokeApiKey(db, created.principal.id, 'council');
      now.mockReturnValue(10_999);
      expect(await keys.authenticate(created.key)).toEqual(created.principal);
      now.mockReturnValue(11_001);
      expect(await keys.authenticate(created.key)).toBeUndefined();
    } finally {
      now.mockRestore();
    }
  });

  it('keeps nothing when the time to keep is 0, and never keeps an unknown or revoked key', async () => {
    const db = database().db;
    const created = await createApiKey(db, { role: 'analyst', name: 'unkept' });
    const unkept = keyLookup(db, 0);
    expect(await unkept.authenticate(created.key)).toEqual(created.principal);
    await revokeApiKey(db, created.principal.id, 'council');
    expect(await unkept.authenticate(created.key)).toBeUndefined();
    const kept = keyLookup(db, 60_000);
    expect(await kept.authenticate(created.key)).toBeUndefined();
    expect(await kept.authenticate('dpg_unknown')).toBeUndefined();
  });
});
