/** See loaded-modules.mjs. */
export function watchLoadedModules(dir: string): {
  nodeOptions: string[];
  loaded: () => string[];
};
