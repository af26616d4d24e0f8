// The smoke test in a browser page: the sandbox's details come in the page's URL fragment.
import { smoke } from "./smoke.js";

const sandbox = JSON.parse(decodeURIComponent(location.hash.slice(1)));
smoke(sandbox).then(
  (summary) => (globalThis.smokeResult = `ok: ${summary}`),
  (error) => (globalThis.smokeResult = `failed in the browser: ${error?.stack ?? error}`),
);
