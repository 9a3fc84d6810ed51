/**
 * Resolves once the requests made before the call have left for the network, so that a
 * synchronous load after it (an SDK client, see loadAwsSdk) runs while they are answered rather
 * than holding them back: the SDK's send takes a few turns of the event loop (its middleware,
 * then the socket) before its request is written. Four turns, measured on Node 20: a request
 * timeline showed one turn too few (the load ran first, and the requests waited for it), and
 * `bench/publish.mjs --process` a first publish faster with four (bench/README.md). Where a
 * request leaves later (a TLS handshake), the load overlaps the handshake instead.
 */
export async function requestsOnTheWire(): Promise<void> {
  for (let turn = 0; turn < 4; turn++) await new Promise((resolve) => setImmediate(resolve));
}
