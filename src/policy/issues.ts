/** A problem found in a policy set, located as precisely as the checker can. */
export interface PolicyIssue {
  /** The policy file, relative to the policy directory, or undefined for the set as a whole. */
  readonly file?: string;
  /** 1-based line and column in that file, where known. */
  readonly line?: number;
  readonly column?: number;
  /** The path inside the policy, e.g. `tables.people.columns.age.bounds`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

/** `tables.yaml:12:7 tables.people.columns.age.bounds: lower bound 100 is above upper bound 0` */
export function formatIssue(issue: PolicyIssue): string {
  const where = issue.file
    ? issue.line
      ? `${issue.file}:${issue.line}:${issue.column ?? 1}`
      : issue.file
    : '(policy set)';
  return `${where} ${formatPath(issue.path)}: ${issue.message}`;
}

/** Thrown when a policy set is refused; carries every issue found. */
export class InvalidPolicyError extends Error {
  readonly issues: readonly PolicyIssue[];
  constructor(issues: readonly PolicyIssue[]) {
    super(`policy refused:\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
    this.name = 'InvalidPolicyError';
    this.issues = issues;
  }
}
