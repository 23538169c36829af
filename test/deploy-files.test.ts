/**
 * The container recipe and the compose file, checked where no container runtime is available: the
 * Dockerfile is multi-stage, runs as a non-root user with a health check, copies only files that
 * exist and starts the compiled build; compose runs it against PostgreSQL with known settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_DOCS, readConfig } from '../src/config.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerfile(): Instruction[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfile', () => {
  const instructions = dockerfile();
  const stages = instructions.flatMap((i, index) => (i.keyword === 'FROM' ? [index] : []));
  const final = instructions.slice(stages.at(-1));

  it('uses only known instructions', () => {
    const known = [
      'FROM',
      'WORKDIR',
      'COPY',
      'RUN',
      'ENV',
      'USER',
      'VOLUME',
      'EXPOSE',
      'HEALTHCHECK',
      'ENTRYPOINT',
      'CMD',
      'ARG',
      'LABEL',
    ];
    for (const { keyword } of instructions) expect(known).toContain(keyword);
  });

  it('builds in one stage and runs from another, on Node 20', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const index of stages) expect(instructions[index]!.args).toMatch(/^node:20[-\w.]*( AS \w+)?$/);
    expect(final.some((i) => i.keyword === 'COPY' && i.args.includes('--from=build'))).toBe(true);
  });

  it('runs as a non-root user with a health check on /health', () => {
    const user = final.filter((i) => i.keyword === 'USER').at(-1);
    expect(user?.args).toBeDefined();
    expect(user?.args).not.toMatch(/^(root|0)(:|$)/);
    const health = final.find((i) => i.keyword === 'HEALTHCHECK');
    expect(health?.args).toContain('/health');
  });

  it('copies files that exist and starts the compiled build', () => {
    for (const { args } of instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))) {
      const parts = args.split(' ').filter((part) => !part.startsWith('--'));
      for (const source of parts.slice(0, -1)) expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
    expect(final.find((i) => i.keyword === 'ENTRYPOINT')?.args).toContain('dist/cli.js');
    const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.build as string;
    expect(script).toContain('tsconfig.build.json');
  });

  it('exposes the port the gateway listens on', () => {
    const env = final
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    const port = env.match(/PORT=(\d+)/)?.[1];
    expect(final.find((i) => i.keyword === 'EXPOSE')?.args).toBe(port);
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'));

  it('runs dpgate from the Dockerfile after PostgreSQL is healthy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['dpgate', 'postgres']);
    const { dpgate, postgres } = compose.services;
    expect(dpgate.build).toBe('.');
    expect(dpgate.depends_on.postgres.condition).toBe('service_healthy');
    expect(postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(new URL(dpgate.environment.DATABASE_URL.replace(/\$\{[^}]+\}/g, 'x')).host).toBe('postgres:5432');
  });

  it('sets only settings dpgate knows, with values it accepts', () => {
    const environment = dpgate().environment as Record<string, string>;
    for (const name of Object.keys(environment)) expect(Object.keys(CONFIG_DOCS)).toContain(name);
    const defaults = Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [
        name,
        value.replace(/\$\{[^:}]+:-([^}]*)\}/g, '$1'),
      ]),
    );
    expect(() => readConfig(defaults)).not.toThrow();
  });

  function dpgate() {
    return compose.services.dpgate;
  }
});
