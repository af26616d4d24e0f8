import { http } from "msw";
import type { HttpHandler } from "msw";
import type { SandboxHandler } from "./sandbox.js";

/**
 * Mock Service Worker handlers that answer every request to the sandbox's origin from the
 * sandbox, for test suites that already mock with msw (`setupServer` in Node.js, `setupWorker`
 * in a browser). msw is an optional peer dependency: install it to use this subpath.
 *
 * @example
 * ```ts
 * import { setupServer } from "msw/node";
 * import { createSandbox } from "@asc-kit/sandbox/web";
 * import { sandboxHandlers } from "@asc-kit/sandbox/msw";
 *
 * const sandbox = await createSandbox(); // on https://api.appstoreconnect.apple.com
 * const server = setupServer(...sandboxHandlers(sandbox));
 * server.listen({ onUnhandledRequest: "error" });
 * ```
 */
export function sandboxHandlers(sandbox: Pick<SandboxHandler, "url" | "handle">): HttpHandler[] {
  return [http.all(`${sandbox.url}/*`, ({ request }) => sandbox.handle(request))];
}
