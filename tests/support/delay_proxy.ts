// A slow forwarding proxy in front of the imitation, and a poll, so a test can stop a stage while calls are in flight.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isModelLookup } from './imitation_server.js';
import type { Endpoints } from './run_stage.js';

/** Polls until `check` is true (or throws after `timeoutMs`). */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface DelayProxy extends Endpoints {
  /** Requests the stage sent (each counted on arrival, before the delay). */
  readonly received: number;
  close(): Promise<void>;
}

/**
 * A forwarding proxy that holds every request for `delayMs` before passing it on: makes the fast imitation slow
 * enough that a test can interrupt a stage mid-run. `lookupsOnly` holds only the model look-ups, so a test can make
 * the look-up the slower of the two requests a stage opens with.
 */
export async function startDelayProxy(
  target: string,
  delayMs: number,
  { lookupsOnly = false } = {},
): Promise<DelayProxy> {
  const upstream = new URL(target);
  let received = 0;
  const server = http.createServer((req, res) => {
    // The free model look-up before the first paid call is not an answer the stage must keep.
    const lookup = isModelLookup({ method: req.method, path: req.url ?? '/' });
    if (!lookup) received++;
    const body: Buffer[] = [];
    req.on('data', (d: Buffer) => body.push(d));
    req.on('end', () => {
      const timer = setTimeout(
        () => {
          const forward = http.request(
            { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          forward.on('error', () => res.destroy());
          res.on('close', () => forward.destroy());
          forward.end(Buffer.concat(body));
        },
        lookupsOnly && !lookup ? 0 : delayMs,
      );
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    geminiBaseUrl: url,
    openaiBaseUrl: `${url}/v1`,
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
