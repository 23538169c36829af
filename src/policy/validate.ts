/**
 * Validating a policy set without touching the database: YAML, schema, cross-references.
 * Returns either a policy snapshot or every issue found, each located in its file.
 */
import type { CatalogFacts } from '../sql/plan.ts';
import { crossCheckPolicy } from './cross-check.ts';
import type { PolicyIssue } from './issues.ts';
import { mergePolicyFiles, type PolicyFile } from './policy-files.ts';
import { type Policy, policySchema } from './schema.ts';
import { policyVersion } from './version.ts';

/** An immutable, validated policy with the content hash every charge refers to. */
export interface PolicySnapshot {
  readonly version: string;
  readonly policy: Policy;
  readonly files: readonly PolicyFile[];
  /** Catalog facts read with the database check; absent when the policy was not checked against one. */
  readonly catalog?: CatalogFacts;
}

export type PolicyValidation =
  | { readonly ok: true; readonly snapshot: PolicySnapshot }
  | { readonly ok: false; readonly issues: readonly PolicyIssue[] };

export async function validatePolicyFiles(files: readonly PolicyFile[]): Promise<PolicyValidation> {
  if (files.length === 0) {
    return { ok: false, issues: [{ path: [], message: 'no policy files (*.yaml or *.yml) found' }] };
  }
  const merged = mergePolicyFiles(files);
  if (merged.issues.length > 0) return { ok: false, issues: merged.issues };

  const parsed = policySchema.safeParse(merged.value, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const path = issue.path.map((step) => (typeof step === 'symbol' ? String(step) : step));
      return { ...merged.locate(path), path, message: describeZodIssue(issue) };
    });
    return { ok: false, issues };
  }
  const crossIssues = crossCheckPolicy(parsed.data);
  if (crossIssues.length > 0) {
    return { ok: false, issues: crossIssues.map((issue) => ({ ...merged.locate(issue.path), ...issue })) };
  }
  const frozen = deepFreeze(parsed.data);
  return { ok: true, snapshot: { version: policyVersion(frozen), policy: frozen, files } };
}

interface ZodIssueLike {
  code: string;
  message: string;
  keys?: string[];
  expected?: unknown;
  input?: unknown;
}

/** zod's messages, made specific where its defaults are vague for a policy author. */
function describeZodIssue(issue: ZodIssueLike): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return `is required (${String(issue.expected)})`;
  if (issue.code === 'invalid_type' && typeof issue.input === 'number' && !Number.isFinite(issue.input)) {
    return `must be a finite number, not ${String(issue.input)}`;
  }
  return issue.message;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
