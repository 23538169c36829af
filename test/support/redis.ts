/** The Redis the tests use when one runs (DPGATE_TEST_REDIS_URL, default the local one). */
import { connect } from 'node:net';

export const TEST_REDIS_URL = process.env.DPGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when something accepts a connection at the URL's host and port within half a second. */
export function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname);
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
