/**
 * Privacy accounting: composition for the ledger (basic and zCDP) and the DP-SGD accountants
 * (RDP and PLD) with σ calibration. Pure code: no I/O, no environment, runs on Workers.
 * See docs/accounting.md for the arguments and citations.
 */

export { type CalibratedSigma, dpSgdEpsilon, dpSgdSigma, type SigmaRequest } from './dp-sgd-calibration.ts';
export {
  ACCOUNTANT_NAMES,
  type AccountantName,
  AccountingInputError,
  checkDpSgdSetting,
  type DpSgdSetting,
} from './dp-sgd-setting.ts';
export {
  type ApproxLoss,
  composeBasic,
  composeZcdp,
  remainingRho,
  type ZcdpSpend,
  zcdpSpendToEpsilon,
} from './ledger-composition.ts';
export { dpSgdEpsilonByPld, type PldEpsilon, type PldOptions } from './pld-accountant.ts';
export { dpSgdEpsilonByRdp, type RdpEpsilon } from './rdp-accountant.ts';
export { epsilonFromRdpAtOrder, rdpToApprox } from './rdp-to-approx.ts';
export {
  DEFAULT_RDP_ORDERS,
  type SubsampledGaussian,
  subsampledGaussianRdp,
} from './subsampled-gaussian-rdp.ts';
export { pureToZcdp, zcdpBudget, zcdpToEpsilon, zcdpToEpsilonBunSteinke } from './zcdp-conversion.ts';
