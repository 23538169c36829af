/**
 * Named points in the answer flow where tests inject a failure (or a crash) to check that no answer
 * ever leaves without a committed charge. Production passes none.
 */
export type FaultPoint = 'before-charge' | 'after-charge' | 'after-execute' | 'after-release';

export type FaultInjector = (point: FaultPoint) => void | Promise<void>;
