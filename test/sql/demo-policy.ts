import { readPolicyDirectory } from '../../src/policy/load-directory.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';

const policyDirectory = new URL('../../policies/', import.meta.url).pathname;

/** The demo commons policy (policies/*.yaml), validated as the gateway loads it. */
export async function loadDemoPolicy(): Promise<Policy> {
  const validation = await validatePolicyFiles(await readPolicyDirectory(policyDirectory));
  if (!validation.ok) throw new Error(`demo policy invalid: ${JSON.stringify(validation.issues)}`);
  return validation.snapshot.policy;
}

/**
 * The demo policy plus a hidden column `notes` on people (the demo declares none), to show that
 * hidden columns are refused even inside aggregates.
 */
export function withHiddenColumn(policy: Policy): Policy {
  const copy = structuredClone(policy) as Policy;
  (copy.tables.people!.columns as Record<string, unknown>).notes = { type: 'text', hidden: true };
  return copy;
}

export const ALL_COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'];
