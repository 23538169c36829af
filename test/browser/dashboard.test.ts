/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core against a real
 * gateway on the embedded database with the demo loaded. Each role signs in and does its main
 * work; every page passes axe-core with no serious or critical violation; screenshots land in
 * test-artifacts/screenshots/.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningPair } from '../../src/federation/crypto.ts';
import { createNodeService } from '../../src/federation/node-service.ts';
import { readPolicyDirectory } from '../../src/policy/load-directory.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { openTestDatabase } from '../support/databases.ts';
import { DEMO_POLICY_DIR } from '../support/demo-policy.ts';
import { freePort } from '../support/free-port.ts';
import { type GatewayProcess, startGateway } from '../support/gateway-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

if (!existsSync(CHROMIUM)) {
  console.warn(
    `test/browser skipped: ${CHROMIUM} is missing. Install it with "apt-get install -y chromium" (.ci/run does).`,
  );
}

interface DemoKeys {
  analyst: string;
  council: string;
  contributors: Record<string, string>;
}

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dpgate-browser-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'dpgate-chromium-'));
  let gateway: GatewayProcess;
  let context: BrowserContext;
  let keys: DemoKeys;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
      await build({ configFile: join(ROOT, 'web', 'vite.config.ts') });
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    gateway = await startGateway(
      { DATABASE_URL: undefined, DPGATE_DATA_DIR: dataDir, DPGATE_DEMO: '1' },
      90_000,
    );
    keys = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1280, height: 900 },
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  async function signIn(key: string, badge: string, url = gateway.url): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.goto(url);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.role-badge', { hasText: badge }).waitFor();
    expect(page.url()).not.toContain(key);
    return page;
  }

  async function expectAccessible(page: Page, name: string) {
    // Evaluated over the DevTools protocol: the page’s own CSP rightly refuses inline scripts.
    await page.evaluate(AXE);
    const violations =
      (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      })))`)) as { id: string; impact: string; help: string; targets: string[] }[];
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `${name}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
  }

  /**
   * The whole page from the top (so the sticky header sits where a person sees it), and a small
   * copy for the docs: the first screen, or the screen from `from`, drawn at 75%.
   */
  const shoot = async (page: Page, name: string, from?: string) => {
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    await page.evaluate("document.documentElement.style.zoom = '0.75'");
    await page.setViewportSize({ width: 960, height: 640 });
    if (from) await page.locator(from).evaluate((element) => element.scrollIntoView());
    await page.screenshot({ path: join(SCREENSHOTS, `small-${name}.png`) });
    await page.evaluate("document.documentElement.style.zoom = ''");
    await page.setViewportSize({ width: 1280, height: 900 });
  };

  const spentText = async (page: Page) =>
    ((await page.locator('.budget .gauge figcaption strong').first().textContent()) ?? '').trim();

  it('signs in with a key kept in session storage, and refuses an unknown one', async () => {
    const page = await context.newPage();
    await page.goto(gateway.url);
    await expectAccessible(page, 'sign-in');
    await shoot(page, 'sign-in');
    await page.getByLabel('API key').fill('dpg_not_a_real_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('unknown or revoked');
    await page.getByLabel('API key').fill(keys.analyst);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.role-badge', { hasText: 'analyst' }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('dpgate.key')")).toBe(keys.analyst);
    await page.reload();
    await page.locator('.role-badge', { hasText: 'analyst' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate("sessionStorage.getItem('dpgate.key')")).toBeNull();
    await page.close();
  });

  it('lets an analyst browse the catalog, dry-run, run a query, and the contributor sees the budget fall', async () => {
    const contributor = await signIn(keys.contributors.riverside!, 'contributor');
    await contributor.locator('.budget .gauge').waitFor();
    const before = await spentText(contributor);

    const analyst = await signIn(keys.analyst, 'analyst');
    const catalog = analyst.locator('.catalog');
    await catalog.getByText('survey_responses').waitFor();
    await expect.poll(() => catalog.textContent()).toContain('bounds [0, 100]');
    await analyst.locator('.cm-content').waitFor();

    await analyst.locator('.cm-content').click();
    await analyst.keyboard.press('Control+A');
    await analyst.keyboard.type('SELECT sex, COUNT(*) AS n FROM people GROUP BY sex');
    await analyst.keyboard.press('Escape');
    const dry = analyst.locator('.dry-run');
    await expect.poll(() => dry.textContent(), { timeout: 10_000 }).toMatch(/ε 0\.1(?!\d)/);
    await analyst.getByLabel('ε', { exact: true }).fill('0.5');
    await expect.poll(() => dry.textContent(), { timeout: 10_000 }).toMatch(/ε 0\.5(?!\d)/);
    await expect.poll(() => dry.textContent()).toContain('± ');
    await expectAccessible(analyst, 'analyst');

    await analyst.getByRole('button', { name: 'Run query' }).click();
    const result = analyst.locator('section', { has: analyst.getByRole('heading', { name: 'Result' }) });
    await result.locator('table.answer tbody tr').first().waitFor();
    expect(await result.locator('table.answer tbody tr').count()).toBe(2);
    expect(await result.textContent()).toContain('±');
    await result.locator('.chart svg .errorbar').first().waitFor();
    await analyst.getByRole('heading', { name: 'Your queries' }).scrollIntoViewIfNeeded();
    await expect.poll(() => analyst.locator('.history').textContent()).toContain('GROUP BY sex');
    await shoot(analyst, 'analyst');
    await expectAccessible(analyst, 'analyst with a result');

    await contributor.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => spentText(contributor), { timeout: 10_000 }).not.toBe(before);
    const row = contributor.locator('table.ledger tbody tr', { hasText: 'GROUP BY sex' });
    await row.getByRole('button').click();
    const detail = contributor.locator('.charge-detail');
    await expect.poll(() => detail.textContent()).toContain('Why it cost this');
    await detail.locator('table.answer tbody tr').first().waitFor();
    await contributor.getByLabel('Search').fill('GROUP BY sex');
    expect(await contributor.locator('table.ledger tbody tr.open').count()).toBe(1);
    await shoot(contributor, 'contributor');
    await expectAccessible(contributor, 'contributor');
    await analyst.close();
    await contributor.close();
  });

  it('shows an rdp community’s contributor the binding order, the Rényi curve and each charge’s own (ε, δ)', async () => {
    // A second gateway whose commons composes by Rényi curves (the demo policy with `accounting: rdp`).
    const rdpDir = mkdtempSync(join(tmpdir(), 'dpgate-browser-rdp-'));
    cpSync(DEMO_POLICY_DIR, rdpDir, { recursive: true });
    const commons = join(rdpDir, 'commons.yaml');
    writeFileSync(commons, readFileSync(commons, 'utf8').replace('accounting: zcdp', 'accounting: rdp'));
    const rdpGateway = await startGateway(
      {
        DATABASE_URL: undefined,
        DPGATE_DATA_DIR: rdpDir,
        DPGATE_POLICY_DIR: rdpDir,
        DPGATE_DEMO: '1',
      },
      90_000,
    );
    try {
      const rdpKeys = JSON.parse(readFileSync(join(rdpDir, 'demo-keys.json'), 'utf8')) as DemoKeys;
      for (const sql of ['SELECT COUNT(*) FROM people', 'SELECT COUNT(*) FROM people WHERE age > 40']) {
        const response = await fetch(`${rdpGateway.url}/v1/queries`, {
          method: 'POST',
          headers: { authorization: `Bearer ${rdpKeys.analyst}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sql, epsilon: 0.5 }),
        });
        expect(response.status).toBe(200);
      }
      const page = await context.newPage();
      page.on('pageerror', (error) => {
        throw error;
      });
      await page.goto(rdpGateway.url);
      await page.getByLabel('API key').fill(rdpKeys.contributors.riverside!);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const filter = page.locator('section', { has: page.getByRole('heading', { name: 'Rényi filter' }) });
      await filter.locator('.chart svg').waitFor();
      const facts = (await filter.locator('.facts').textContent()) ?? '';
      expect(facts).toMatch(/Order that bindsα = \d+/);
      expect(facts).toContain('ε left at δ');
      expect(await filter.locator('svg').getAttribute('aria-label')).toMatch(/At the filter's order α = \d+/);
      await filter.getByText('The composed curve, order by order').click();
      expect(await filter.locator('table.curve tbody tr').count()).toBeGreaterThan(10);
      const row = page.locator('table.ledger tbody tr', { hasText: 'age > 40' });
      await row.waitFor();
      expect(await page.locator('table.ledger thead').textContent()).toContain('own (ε, δ)');
      expect(await row.textContent()).toMatch(/0\.5\d*, \d\.\d×10/);
      await shoot(page, 'contributor-rdp', 'section:has(#renyi-title)');
      await expectAccessible(page, 'contributor (rdp)');
      await page.close();
    } finally {
      await rdpGateway.stop();
      rmSync(rdpDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('shows the federation to a contributor and the council: nodes, threshold, fingerprints, reachability', async () => {
    // A third gateway whose commons keeps people and survey_responses on three community nodes; it
    // holds the federation key, so it probes the nodes: riverside's answers, the other two do not.
    const dir = mkdtempSync(join(tmpdir(), 'dpgate-browser-federation-'));
    cpSync(DEMO_POLICY_DIR, dir, { recursive: true });
    const gatewayPair = await generateSigningPair();
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodes = ['node_hillcrest', 'node_lakeside', 'node_riverside'];
    const pairs = await Promise.all(nodes.map(() => generateSigningPair()));
    const lines = nodes.map(
      (id, i) =>
        `    ${id}: { community: ${id.slice(5)}, public_key: ${pairs[i]!.publicKey}, url: "http://127.0.0.1:${ports[i]}" }`,
    );
    writeFileSync(
      join(dir, 'federation.yaml'),
      `federation:\n  gateway: { public_key: ${gatewayPair.publicKey} }\n  threshold: 2\n` +
        `  tables: [people, survey_responses]\n  nodes:\n${lines.join('\n')}\n`,
    );
    const keyFile = join(dir, 'gateway.jwk');
    writeFileSync(keyFile, JSON.stringify(gatewayPair.privateJwk));
    const validation = await validatePolicyFiles(await readPolicyDirectory(dir));
    if (!validation.ok) throw new Error(JSON.stringify(validation.issues));
    const nodeDb = await openTestDatabase('pglite', { demo: false });
    const service = createNodeService({
      nodeId: 'node_riverside',
      signingKey: pairs[2]!.privateKey,
      policy: validation.snapshot,
      db: nodeDb.db,
    });
    const nodeServer = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: ports[2]! });
    const federated = await startGateway(
      {
        DATABASE_URL: undefined,
        DPGATE_DATA_DIR: dir,
        DPGATE_POLICY_DIR: dir,
        DPGATE_DEMO: '1',
        DPGATE_FEDERATION_KEY: keyFile,
      },
      180_000,
    );
    try {
      const federationKeys = JSON.parse(readFileSync(join(dir, 'demo-keys.json'), 'utf8')) as DemoKeys;
      const page = await signIn(federationKeys.contributors.riverside!, 'contributor', federated.url);
      const card = page.locator('#federation');
      await card.locator('tbody tr').first().waitFor();
      expect(await card.locator('tbody tr').count()).toBe(3);
      const own = card.locator('tbody tr.own');
      expect(await own.textContent()).toContain('node_riverside');
      expect(await own.textContent()).toContain('reachable');
      expect(await card.locator('tbody tr', { hasText: 'node_lakeside' }).textContent()).toContain(
        'unreachable',
      );
      expect(await card.locator('.facts').textContent()).toContain('a round needs 2 of 3 nodes');
      expect(await card.locator('code.fingerprint').first().textContent()).toMatch(
        /^([0-9a-f]{4} ){7}[0-9a-f]{4}$/,
      );
      await shoot(page, 'contributor-federation', '#federation');
      await expectAccessible(page, 'contributor (federation)');
      await page.close();

      const council = await signIn(federationKeys.council, 'council', federated.url);
      await council.locator('#federation tbody tr').first().waitFor();
      expect(await council.getByRole('link', { name: 'Federation' }).count()).toBe(1);
      await council.locator('.table-policy', { hasText: 'on community nodes' }).first().waitFor();
      await shoot(council, 'council-federation', '#federation');
      await expectAccessible(council, 'council (federation)');
      await council.close();
    } finally {
      await federated.stop();
      await new Promise((resolve) => nodeServer.close(resolve));
      await nodeDb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 360_000);

  it('refuses a broken candidate policy with its file, line and message, then shows a good one’s effect', async () => {
    const council = await signIn(keys.council, 'council');
    await council.getByRole('heading', { name: 'Policy in force' }).waitFor();
    await expect.poll(() => council.locator('.versions').textContent()).toContain('in force');
    await expect.poll(() => council.locator('#audit').textContent()).toContain('Intact');
    await council.getByRole('tab', { name: 'budgets.yaml' }).click();
    const editor = council.getByLabel('Contents of budgets.yaml');
    const original = await editor.inputValue();

    await editor.fill(original.replace('lakeside:  { epsilon: 5,', 'lakeside:  { epsilon: -5,'));
    const refused = council.locator('.refused');
    await refused.waitFor({ timeout: 15_000 });
    const refusal = await refused.textContent();
    expect(refusal).toMatch(/budgets\.yaml:\d+/);
    expect(refusal).toContain('greater than 0');
    await shoot(council, 'council-refused', '#candidate');

    await editor.fill(original.replace('lakeside:  { epsilon: 5,', 'lakeside:  { epsilon: 6,'));
    const accepted = council.locator('.accepted');
    await accepted.waitFor({ timeout: 15_000 });
    expect(await accepted.textContent()).toContain('Budget of lakeside: ε 5 → 6');

    await council.getByLabel('Name').fill('browser analyst');
    await council.getByRole('button', { name: 'Create key' }).click();
    const secret = await council.getByLabel('The new API key').inputValue();
    expect(secret).toMatch(/^dpg_/);
    await expect.poll(() => council.locator('#keys table').textContent()).toContain('browser analyst');
    await shoot(council, 'council');
    await expectAccessible(council, 'council');
    await council.close();
  });

  it('shows a training job’s progress bar fill to the end and its model card', async () => {
    const analyst = await signIn(keys.analyst, 'analyst');
    await analyst.getByRole('button', { name: 'Start training' }).click();
    const bar = analyst.getByRole('progressbar').first();
    await bar.waitFor();
    await expect.poll(() => bar.getAttribute('value'), { timeout: 60_000 }).toBe('100');
    await expect
      .poll(() => analyst.locator('.job .status').first().textContent(), { timeout: 30_000 })
      .toMatch(/succeeded/i);
    await analyst.getByRole('button', { name: 'Model card' }).first().click();
    await expect.poll(() => analyst.locator('.model-card').textContent()).toContain('epsilon');
    await analyst.locator('.model-card').scrollIntoViewIfNeeded();
    await shoot(analyst, 'analyst-training', '#training-title');
    await expectAccessible(analyst, 'analyst training');
    await analyst.close();
  });
});
