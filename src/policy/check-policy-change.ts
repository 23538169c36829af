/**
 * The check a policy set must pass to replace the one in force: everything `checkPolicySet` checks,
 * plus whatever the ledger requires of it (budgets never below what is spent: see
 * `ledger/spend-within-policy.ts`). The caller supplies how to read the catalog and the ledger, so
 * this module needs no database of its own; the ledger's issues are located in the files here.
 */
import { checkPolicySet, type ReadCatalog } from './check-policy-set.ts';
import type { PolicyIssue } from './issues.ts';
import { mergePolicyFiles, type PolicyFile } from './policy-files.ts';
import type { Policy } from './schema.ts';
import type { PolicyValidation } from './validate.ts';

export interface PolicyChangeChecks {
  readonly readCatalog: ReadCatalog;
  readonly checkLedger: (policy: Policy) => Promise<Omit<PolicyIssue, 'file' | 'line' | 'column'>[]>;
}

export async function checkPolicyChange(
  files: readonly PolicyFile[],
  checks: PolicyChangeChecks,
): Promise<PolicyValidation> {
  const validation = await checkPolicySet(files, checks.readCatalog);
  if (!validation.ok) return validation;
  const issues = await checks.checkLedger(validation.snapshot.policy);
  if (issues.length === 0) return validation;
  const { locate } = mergePolicyFiles(files);
  return { ok: false, issues: issues.map((issue) => ({ ...locate(issue.path), ...issue })) };
}
