/**
 * Governance: the policy in force with its history, checking a candidate set without applying it,
 * and reloading the policy directory. Council only.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { checkPolicyChangeInDatabase } from '../../ledger/policy-change-check.ts';
import { policyEffect } from '../../policy/effect.ts';
import { formatIssue, formatPath, type PolicyIssue } from '../../policy/issues.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { AUTH_PROBLEMS, BEARER, INVALID_REQUEST, ProblemSchema, problem } from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

/** Policy sets are a few small files; a larger body is a mistake or an attack. */
const MAX_CANDIDATE_BYTES = 1024 * 1024;

const PolicyStateSchema = z
  .object({
    version: z.string(),
    policy: z.record(z.string(), z.unknown()),
    files: z.array(z.object({ name: z.string(), text: z.string() })),
    last_refusal: z.object({ at: z.string(), issues: z.array(z.string()) }).nullable(),
    versions: z
      .array(z.object({ version: z.string(), applied_at: z.string() }))
      .openapi({ description: 'Every policy version that took effect in this database, newest first.' }),
  })
  .openapi('PolicyState');

const PolicyIssueSchema = z
  .object({
    file: z.string().optional(),
    line: z.number().int().optional(),
    column: z.number().int().optional(),
    path: z.string().openapi({ example: 'tables.people.columns.age.bounds' }),
    message: z.string(),
  })
  .openapi('PolicyIssue');

const BudgetSchema = z.object({ epsilon: z.number(), delta: z.number() });
const BoundsSchema = z.tuple([z.unknown(), z.unknown()]).nullable();

const PolicyEffectSchema = z
  .object({
    budgets_changed: z.array(z.object({ community: z.string(), from: BudgetSchema, to: BudgetSchema })),
    communities_added: z.array(z.string()),
    communities_removed: z.array(z.string()),
    columns_exposed: z.array(z.string()),
    columns_hidden: z.array(z.string()),
    bounds_changed: z.array(z.object({ column: z.string(), from: BoundsSchema, to: BoundsSchema })),
    tables_added: z.array(z.string()),
    tables_removed: z.array(z.string()),
    tables_made_public: z.array(z.string()),
    tables_made_private: z.array(z.string()),
    accounting_changed: z.object({ from: z.string(), to: z.string() }).nullable(),
    limits_changed: z.array(z.object({ limit: z.string(), from: z.unknown(), to: z.unknown() })),
  })
  .openapi('PolicyEffect');

const CandidateSchema = z
  .object({
    files: z
      .array(
        z.object({
          name: z
            .string()
            .max(255)
            .regex(/^[\w.-]+\.ya?ml$/, 'must be a file name ending in .yaml or .yml'),
          text: z.string(),
        }),
      )
      .min(1)
      .refine(
        (files) => new Set(files.map((file) => file.name)).size === files.length,
        'file names must be unique',
      ),
  })
  .openapi('PolicyCandidate');

const ValidationSchema = z
  .object({
    valid: z.boolean(),
    version: z.string().optional(),
    issues: z.array(PolicyIssueSchema),
    effect: PolicyEffectSchema.nullable().openapi({
      description: 'What applying the candidate would change; null when it is not valid.',
    }),
  })
  .openapi('PolicyValidation');

const ReloadSchema = z
  .object({
    status: z.enum(['applied', 'unchanged']),
    version: z.string(),
    previous_version: z.string().optional(),
  })
  .openapi('PolicyReload');

const getRoute = createRoute({
  method: 'get',
  path: '/v1/policies',
  operationId: 'getPolicy',
  summary: 'The policy in force, the last refused policy set, and every applied version',
  tags: ['governance'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  responses: {
    200: {
      description: 'The policy in force',
      content: { 'application/json': { schema: PolicyStateSchema } },
    },
    ...AUTH_PROBLEMS,
  },
});

const validateRoute = createRoute({
  method: 'post',
  path: '/v1/policies/validate',
  operationId: 'validatePolicy',
  summary: 'Check a candidate policy set against the database and the ledger, without applying it',
  tags: ['governance'],
  security: BEARER,
  middleware: [requireRole('council'), bodyLimit({ maxSize: MAX_CANDIDATE_BYTES })] as const,
  request: { body: { required: true, content: { 'application/json': { schema: CandidateSchema } } } },
  responses: {
    ...INVALID_REQUEST,
    413: problem('The candidate is larger than 1 MiB'),
    200: {
      description: 'Whether the set is valid, every issue found, and its effect against the policy in force',
      content: { 'application/json': { schema: ValidationSchema } },
    },
    ...AUTH_PROBLEMS,
  },
});

const reloadRoute = createRoute({
  method: 'post',
  path: '/v1/policies/reload',
  operationId: 'reloadPolicy',
  summary: 'Re-read the policy directory and apply it if it passes every check',
  tags: ['governance'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  responses: {
    200: {
      description: 'The set took effect, or it was already in force',
      content: { 'application/json': { schema: ReloadSchema } },
    },
    404: {
      description: 'This gateway has no policy directory (Workers)',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
    422: {
      description:
        'The set was refused (code `invalid_policy`, with `issues`); the last good policy keeps serving',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
    ...AUTH_PROBLEMS,
  },
});

export function policyRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>()
    .openapi(getRoute, async (c) => {
      const { version, policy, files } = deps.policies.current;
      const refusal = deps.policies.lastRefusal;
      const versions = await deps.db
        .selectFrom('dpgate.policy_versions')
        .select(['version', 'applied_at'])
        .orderBy('applied_at', 'desc')
        .execute();
      return c.json(
        {
          version,
          policy,
          files: files.map(({ name, text }) => ({ name, text })),
          last_refusal: refusal
            ? { at: refusal.at.toISOString(), issues: refusal.issues.map(formatIssue) }
            : null,
          versions: versions.map((row) => ({
            version: row.version,
            applied_at: row.applied_at.toISOString(),
          })),
        },
        200,
      );
    })
    .openapi(validateRoute, async (c) => {
      const { files } = c.req.valid('json');
      const result = await checkPolicyChangeInDatabase(deps.db, files);
      if (!result.ok)
        return c.json({ valid: false, issues: result.issues.map(issueBody), effect: null }, 200);
      return c.json(
        {
          valid: true,
          version: result.snapshot.version,
          issues: [],
          effect: policyEffect(deps.policies.current.policy, result.snapshot.policy),
        },
        200,
      );
    })
    .openapi(reloadRoute, async (c) => {
      if (!deps.policyReloader) {
        throw new Problem('not_found', 'This gateway has no policy directory to reload.');
      }
      const outcome = await deps.policyReloader.reload('request');
      if (outcome.status === 'refused') {
        throw new Problem(
          'invalid_policy',
          `The policy set was refused; version ${outcome.version} keeps serving.`,
          { extensions: { version: outcome.version, issues: outcome.issues.map(issueBody) } },
        );
      }
      return c.json(
        outcome.status === 'applied'
          ? { status: outcome.status, version: outcome.version, previous_version: outcome.previousVersion }
          : { status: outcome.status, version: outcome.version },
        200,
      );
    });
}

function issueBody(issue: PolicyIssue) {
  return { ...issue, path: formatPath(issue.path) };
}
