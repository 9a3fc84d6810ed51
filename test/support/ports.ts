// Free ports on the loopback interface, for servers the harness starts and for tests of a refused
// connection.
import { createServer } from "node:net";

/**
 * A port on 127.0.0.1 that nothing listens on: bound and released just now, so free a moment
 * ago (a server started on it may still find it taken, and should try another).
 *
 * @example
 * const refused = `https://127.0.0.1:${await freeLoopbackPort()}`;
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("the port probe has no TCP port");
  return address.port;
}
