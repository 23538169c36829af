import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { ApiKeyError, authenticateKey, createApiKey } from '../../src/principals/api-keys.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase('API keys', (database) => {
  it('stores only a hash of a key, and finds the principal from the key', async () => {
    const db = database().db;
    const created = await createApiKey(db, { role: 'analyst', name: 'alice' });
    expect(created.key).toMatch(/^dpg_[A-Za-z0-9_-]{43}$/);
    const stored = await sql<
      Record<string, unknown>
    >`select * from dpgate.api_keys where id = ${created.principal.id}`.execute(db);
    expect(JSON.stringify(stored.rows)).not.toContain(created.key);
    expect(stored.rows[0]).toMatchObject({
      key_prefix: created.key.slice(0, 12),
      role: 'analyst',
      community_id: null,
    });
    expect(await authenticateKey(db, created.key)).toEqual(created.principal);
  });

  it('refuses revoked and unknown keys', async () => {
    const db = database().db;
    const created = await createApiKey(db, { role: 'council', name: 'bob' });
    await db
      .updateTable('dpgate.api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', created.principal.id)
      .execute();
    expect(await authenticateKey(db, created.key)).toBeUndefined();
    expect(await authenticateKey(db, 'dpg_unknown')).toBeUndefined();
    expect(await authenticateKey(db, 'not even a key')).toBeUndefined();
  });

  it('ties contributors, and only contributors, to one community', async () => {
    const db = database().db;
    await expect(createApiKey(db, { role: 'contributor', name: 'c' })).rejects.toThrow(ApiKeyError);
    await expect(createApiKey(db, { role: 'analyst', name: 'a', communityId: 'riverside' })).rejects.toThrow(
      ApiKeyError,
    );
    const contributor = await createApiKey(db, { role: 'contributor', name: 'c', communityId: 'lakeside' });
    expect(contributor.principal).toMatchObject({ role: 'contributor', communityId: 'lakeside' });
  });
});
