// The benches use the project's one test harness (test/support: moto, the recording proxy, TLS,
// keys, the CLI runner, the loaded-modules watch), which `pnpm run build` compiles to
// dist/harness. Loaded here, so that a missing build gets one clear line and exit code 2.
const harness = new URL("../dist/harness/", import.meta.url);

/**
 * Imports the compiled harness modules named (`"moto"`, `"cli"`, ...) and returns them merged.
 *
 * @example
 * const { startMoto, startRecordingProxy } = await importHarness("publish bench", "moto", "recording-proxy");
 */
export async function importHarness(bench, ...modules) {
  try {
    const loaded = await Promise.all(modules.map((name) => import(new URL(`${name}.js`, harness).href)));
    return Object.assign({}, ...loaded);
  } catch (error) {
    process.stderr.write(
      `${bench}: the test harness is not built (${error.message}); run pnpm run build first\n`,
    );
    process.exit(2);
  }
}
