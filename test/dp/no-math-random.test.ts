import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SOURCE = join(import.meta.dirname, '..', '..', 'src');

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(directory, entry.name)) : [join(directory, entry.name)],
  );
}

describe('randomness comes only from crypto.getRandomValues', () => {
  const files = filesUnder(SOURCE).filter((file) => /\.(ts|js|mjs|cjs)$/.test(file));

  it('scans a non-empty source tree', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it('no file under src/ calls Math.random', () => {
    const offenders = files.filter((file) => /Math\s*\.\s*random\b/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('src/dp never imports node:crypto (Workers-compatible Web Crypto only)', () => {
    const offenders = files
      .filter((file) => file.includes(join('src', 'dp')))
      .filter((file) => /from\s+['"](node:)?crypto['"]/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
