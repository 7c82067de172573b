/**
 * Whether this build has the pool's worker script: `build-info.json` (written by
 * scripts/build-web.mjs beside the pages) says so without requesting worker.js itself, whose 404
 * would log a console error.
 */
export async function workerScriptBuilt(buildInfoUrl: URL): Promise<boolean> {
  try {
    const response = await fetch(buildInfoUrl);
    return response.ok && (await response.json()).worker === true;
  } catch {
    return false;
  }
}

/** A default worker count: one core is left to the page itself; beyond 4 workers the gain is small. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1));
}
