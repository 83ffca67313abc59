// Starts a server listening and resolves to its bound port (ephemeral when 0), rejecting on the
// listen error instead of leaving an 'error' event unhandled.
import type { AddressInfo, Server } from 'node:net';

export function listen(server: Pick<Server, 'once' | 'off' | 'listen' | 'address'>, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
