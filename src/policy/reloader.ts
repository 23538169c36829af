/**
 * Replacing the policy in force while the gateway runs. Every trigger (the directory watcher, SIGHUP,
 * `POST /v1/policies/reload`) ends here: read the set, run the full check, apply it to the database,
 * then let it serve. Any failure leaves the last good policy serving and records the refusal where
 * `/health`, `GET /v1/policies` and the logs show it. Reading, checking and applying are injected,
 * so this logic is tested without a disk or a database.
 */
import type { Logger } from '../http/context.ts';
import { formatIssue, type PolicyIssue } from './issues.ts';
import type { PolicyFile } from './policy-files.ts';
import type { PolicyStore } from './policy-store.ts';
import type { PolicySnapshot, PolicyValidation } from './validate.ts';

export type ReloadTrigger = 'watch' | 'signal' | 'request';

export type ReloadOutcome =
  | { readonly status: 'applied'; readonly version: string; readonly previousVersion: string }
  | { readonly status: 'unchanged'; readonly version: string }
  /** `version` is the policy that keeps serving. */
  | { readonly status: 'refused'; readonly version: string; readonly issues: readonly PolicyIssue[] };

export interface PolicyReloaderOptions {
  readonly readFiles: () => Promise<readonly PolicyFile[]>;
  /** The full check, database included (`checkPolicyChangeInDatabase`). */
  readonly check: (files: readonly PolicyFile[]) => Promise<PolicyValidation>;
  /** Makes a checked policy the one in force in the database (`applyPolicy`). */
  readonly apply: (snapshot: PolicySnapshot) => Promise<void>;
  readonly policies: PolicyStore;
  readonly logger: Logger;
}

export class PolicyReloader {
  readonly #options: PolicyReloaderOptions;
  #previous: Promise<unknown> = Promise.resolve();

  constructor(options: PolicyReloaderOptions) {
    this.#options = options;
  }

  /** Reloads run one at a time, in the order asked, so two triggers never race to apply. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const outcome = this.#previous.then(() => this.#reloadNow(trigger));
    this.#previous = outcome.catch(() => undefined);
    return outcome;
  }

  async #reloadNow(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { policies, logger } = this.#options;
    const current = policies.current;
    const validation = await this.#options
      .readFiles()
      .then((files) => this.#options.check(files))
      .catch((error: unknown) => {
        logger.error({ err: error, trigger }, 'reading or checking the policy set failed');
        return failure('could not read or check the policy set; the gateway log has the error');
      });

    if (validation.ok && validation.snapshot.version === current.version) {
      // The files are back to the policy in force, so an earlier refusal no longer describes them.
      if (policies.lastRefusal) policies.accept(current);
      return { status: 'unchanged', version: current.version };
    }
    const applied = validation.ok
      ? await this.#options.apply(validation.snapshot).then(
          () => validation,
          (error: unknown) => {
            logger.error({ err: error, trigger }, 'applying the policy set failed');
            return failure(`the database refused to apply it${constraintOf(error)}`);
          },
        )
      : validation;
    if (applied.ok) {
      policies.accept(applied.snapshot);
      logger.info(
        { trigger, policy_version: applied.snapshot.version, previous_version: current.version },
        'policy reloaded',
      );
      return { status: 'applied', version: applied.snapshot.version, previousVersion: current.version };
    }
    policies.refuse(applied.issues);
    logger.warn(
      { trigger, policy_version: current.version, issues: applied.issues.map(formatIssue) },
      'policy set refused; the last good policy keeps serving',
    );
    return { status: 'refused', version: current.version, issues: applied.issues };
  }
}

function failure(message: string): PolicyValidation {
  return { ok: false, issues: [{ path: [], message }] };
}

/**
 * Names the violated constraint: the budget CHECKs catch spend that landed between the check and
 * the apply. Nothing more of a database error is repeated, because refusals show on `/health`.
 */
function constraintOf(error: unknown): string {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? ` (constraint ${constraint})` : '; the gateway log has the error';
}
