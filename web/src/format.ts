/** Numbers as people read them: a few significant digits, δ in scientific notation. */

export function num(value: number | string | null | undefined, digits = 3): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return String(value);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs < 1e-3 || abs >= 1e7) return n.toExponential(Math.max(0, digits - 1)).replace('e', '×10^');
  return n.toLocaleString('en', {
    maximumSignificantDigits: Math.max(digits, Math.ceil(Math.log10(abs + 1))),
  });
}

/** δ as 1.0×10⁻⁵, the way papers write it. */
export function delta(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const n = Number(value);
  if (n === 0) return '0';
  const [mantissa, exponent] = n.toExponential(1).split('e');
  const superscript = exponent!
    .replace(/^\+/, '')
    .replace(/[-0-9]/g, (c) => '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'['-0123456789'.indexOf(c)]!);
  return `${mantissa}×10${superscript}`;
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '—';
  return `${Math.round((100 * part) / whole)}%`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function mechanismName(mechanism: string): string {
  const names: Record<string, string> = {
    laplace: 'Laplace',
    gaussian: 'Gaussian',
    discrete_laplace: 'discrete Laplace',
    discrete_gaussian: 'discrete Gaussian',
    permute_and_flip: 'permute-and-flip',
    dp_sgd: 'DP-SGD',
    distributed_discrete_gaussian: 'distributed discrete Gaussian (federated)',
    none: 'none (public data)',
  };
  return names[mechanism] ?? mechanism.replace(/_/g, ' ');
}
