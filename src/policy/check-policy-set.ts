/**
 * The full check a policy set must pass before it takes effect: files, schema and cross-references
 * (`validate.ts`), then the database (`database-check.ts`). The caller supplies how to read the
 * catalog, so this module needs no database of its own.
 */
import { type CommonsCatalog, checkPolicyAgainstDatabase } from './database-check.ts';
import { mergePolicyFiles, type PolicyFile } from './policy-files.ts';
import type { Policy } from './schema.ts';
import { type PolicyValidation, validatePolicyFiles } from './validate.ts';

export type ReadCatalog = (policy: Policy) => Promise<CommonsCatalog>;

export async function checkPolicySet(
  files: readonly PolicyFile[],
  readCatalog: ReadCatalog,
): Promise<PolicyValidation> {
  const validation = await validatePolicyFiles(files);
  if (!validation.ok) return validation;
  const { snapshot } = validation;
  const catalog = await readCatalog(snapshot.policy);
  const issues = checkPolicyAgainstDatabase(snapshot.policy, catalog);
  // The planner may rely on these facts for as long as this policy is in force.
  if (issues.length === 0)
    return { ok: true, snapshot: { ...snapshot, catalog: { uniqueColumns: catalog.uniqueColumns ?? [] } } };
  const { locate } = mergePolicyFiles(files);
  return { ok: false, issues: issues.map((issue) => ({ ...locate(issue.path), ...issue })) };
}
