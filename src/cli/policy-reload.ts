/**
 * `dpgate policy reload`: asks a running gateway to re-read its policy directory, through the same
 * `POST /v1/policies/reload` a council's tooling would call, and prints what happened. Exits 1 when
 * the set was refused or the request failed.
 */
import { Command } from 'commander';
import { formatIssue } from '../policy/issues.ts';
import { callGateway, type GatewayOptions, withGatewayOptions } from './gateway-options.ts';

interface ReloadResponse {
  readonly status?: 'applied' | 'unchanged';
  readonly version?: string;
  readonly previous_version?: string;
  readonly detail?: string;
  readonly issues?: readonly {
    file?: string;
    line?: number;
    column?: number;
    path: string;
    message: string;
  }[];
}

export function policyReloadCommand(): Command {
  const command = new Command('reload').description(
    'Ask a running gateway to re-read its policy directory and apply it if it passes every check.',
  );
  return withGatewayOptions(command, 'a council').action(async (options: GatewayOptions) => {
    const response = await callGateway<ReloadResponse>(options, 'POST', '/v1/policies/reload');
    const { body } = response;
    if (body.status === 'applied') {
      console.log(`policy applied: version ${short(body.version)} (was ${short(body.previous_version)})`);
    } else if (body.status === 'unchanged') {
      console.log(`policy unchanged: version ${short(body.version)} is in force`);
    } else {
      console.error(`dpgate: ${body.detail ?? `the gateway answered ${response.status}`}`);
      for (const issue of body.issues ?? [])
        console.error(`  ${formatIssue({ ...issue, path: [issue.path] })}`);
      process.exitCode = 1;
    }
  });
}

function short(version: string | undefined): string {
  return version?.slice(0, 12) ?? '?';
}
