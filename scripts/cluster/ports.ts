// Ports for a server that must be told its port in advance (a binary's --port flag): the local control
// plane's components, the demo's modelgate, and the tests that start binaries.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const handedOut = new Set<number>();

/** The low end of the kernel's ephemeral range: outgoing connections take local ports from there up. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    // 0.0.0.0 overlaps every local address, as the binaries bind by default.
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/**
 * A port that is free now. Chosen at random below the ephemeral range, so that neither an
 * outgoing connection (to the API server, say) nor another test's `listen(0)` takes one between this
 * check and the server's own bind, and never handed out twice in one process. (A port from `listen(0)`
 * is in the ephemeral range: the CI run lost a webhook start to EADDRINUSE that way.)
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = randomInt(10_000, ephemeralLow());
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
}
