/** The options of commands that talk to a running gateway: where it is and which key to use. */
import { type Command, Option } from 'commander';

export interface GatewayOptions {
  readonly url: string;
  readonly key: string;
}

export function withGatewayOptions(command: Command, keyRole: string): Command {
  return command
    .addOption(new Option('--url <url>', 'the gateway').env('DPGATE_URL').default('http://127.0.0.1:8787'))
    .addOption(new Option('--key <key>', `${keyRole} API key`).env('DPGATE_KEY').makeOptionMandatory());
}
