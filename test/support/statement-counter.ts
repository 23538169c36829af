/** A Kysely instance that counts the statements sent through it, for tests that assert how many. */
import type { Kysely, KyselyPlugin } from 'kysely';

export function countingStatements<D>(db: Kysely<D>): { db: Kysely<D>; sent: { statements: number } } {
  const sent = { statements: 0 };
  const counter: KyselyPlugin = {
    transformQuery: (args) => {
      sent.statements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: db.withPlugin(counter), sent };
}
