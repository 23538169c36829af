import type { Policy } from '../../src/policy/schema.ts';
import { demoPolicySnapshot } from '../support/demo-policy.ts';

/** The demo commons policy (the test fixture copy), validated as the gateway loads it. */
export async function loadDemoPolicy(): Promise<Policy> {
  return (await demoPolicySnapshot()).policy;
}

/**
 * The demo policy plus hidden columns `notes` on people and `motto` on the public communities (the
 * demo declares none), to show that hidden columns are refused even inside aggregates, exactly as
 * columns that do not exist.
 */
export function withHiddenColumn(policy: Policy): Policy {
  const copy = structuredClone(policy) as Policy;
  (copy.tables.people!.columns as Record<string, unknown>).notes = { type: 'text', hidden: true };
  (copy.tables.communities!.columns as Record<string, unknown>).motto = { type: 'text', hidden: true };
  return copy;
}

export const ALL_COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'];
