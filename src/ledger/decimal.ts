/**
 * Budget amounts as exact decimal text for PostgreSQL NUMERIC. A charge is written with at most 15
 * significant digits, rounded UP when the number needs more, so the ledger never records less than
 * a release cost. A decimal the analyst typed (0.1, 1e-7) is written as typed.
 */
const DIGITS = 15;

export function decimalAtLeast(value: number): string {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`a charge must be a finite non-negative number, not ${value}`);
  if (value === 0) return '0';
  const [mantissa = '', exponentText = '0'] = value.toExponential(DIGITS - 1).split('e');
  let digits = BigInt(mantissa.replace('.', ''));
  const exponent = Number(exponentText) - (DIGITS - 1);
  if (Number(`${digits}e${exponent}`) < value) digits += 1n;
  return normalise(digits, exponent);
}

/** digits × 10^exponent as plain decimal text without trailing zeros. */
function normalise(digits: bigint, exponent: number): string {
  let text = digits.toString();
  let scale = -exponent;
  while (scale > 0 && text.endsWith('0')) {
    text = text.slice(0, -1);
    scale--;
  }
  if (scale <= 0) return text + '0'.repeat(-scale);
  const padded = text.padStart(scale + 1, '0');
  return `${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/**
 * a − b for the ledger's decimal text (NUMERIC as PostgreSQL prints it), exactly, floored at 0: what
 * is left of a budget never passes through a float.
 */
export function decimalRemainder(a: string, b: string): string {
  const [x, y, scale] = aligned(a, b);
  return x - y <= 0n ? '0' : normalise(x - y, -scale);
}

/** a + b for the ledger's decimal text, exactly: what NUMERIC addition gives, as decimal text. */
export function decimalSum(a: string, b: string): string {
  const [x, y, scale] = aligned(a, b);
  return x + y === 0n ? '0' : normalise(x + y, -scale);
}

/** Both decimals as integers of one common scale, and that scale. */
function aligned(a: string, b: string): [bigint, bigint, number] {
  const [x, xScale] = scaledDecimal(a);
  const [y, yScale] = scaledDecimal(b);
  const scale = Math.max(xScale, yScale);
  return [x * 10n ** BigInt(scale - xScale), y * 10n ** BigInt(scale - yScale), scale];
}

function scaledDecimal(text: string): [bigint, number] {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new RangeError(`not a ledger decimal: ${text}`);
  const [whole = '0', fraction = ''] = text.split('.');
  return [BigInt(whole + fraction), fraction.length];
}
