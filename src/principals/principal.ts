import type { Role } from '../policy/schema.ts';

/** Who is asking: resolved from an API key, never from anything the request body says. */
export interface Principal {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** Set for contributors: the one community whose ledger they may read. */
  readonly communityId: string | null;
}
