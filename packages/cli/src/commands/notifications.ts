import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createNotificationHandler } from "@asc-kit/notifications";
import { nodeListener } from "@asc-kit/notifications/node";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { describeErrno, errnoOf, localError, usageError } from "../report.js";
import { secretFromEnv, untilStopped } from "./shared.js";

/** `asc-kit notifications listen`: a local receiver, to try a webhook configuration end to end. */
export function registerNotifications(program: Command, context: Context): void {
  const notifications = program
    .command("notifications")
    .description("receive App Store Connect's marketplace notifications");

  notifications
    .command("listen")
    .description(
      "run a receiver that verifies each notification's signature and prints it, one JSON line each",
    )
    .option("--port <n>", "port to listen on (0: any free port)", "0")
    .requiredOption(
      "--secret-env <name>",
      "the environment variable that holds the webhook's secret (never the secret itself)",
    )
    .action(async (options: { port: string; secretEnv: string }) => {
      const { io } = context;
      const secret = secretFromEnv(io, options.secretEnv);
      const port = Number(options.port);
      if (!/^\d+$/.test(options.port) || port > 65535) {
        throw usageError("--port must be a port number from 0 to 65535.");
      }
      const handle = createNotificationHandler({
        secret,
        onNotification: (notification) => io.stdout(`${JSON.stringify(notification)}\n`),
        // Why, in the receiver's own log: the answer itself says nothing to the sender.
        onRefused: (error, status) =>
          io.stderr(`refused: answered ${status} (${error.code}: ${error.message})\n`),
      });
      const server = createServer(nodeListener(handle));
      await new Promise<void>((resolve, reject) => {
        server.once("error", (error) => {
          const errno = errnoOf(error);
          reject(
            errno === "EADDRINUSE"
              ? localError(`Port ${port} is in use: choose another --port.`, errno)
              : localError(
                  `Cannot listen: ${errno ? describeErrno(errno) : "failed"}.`,
                  errno ?? "LOCAL",
                ),
          );
        });
        server.listen(port, "127.0.0.1", resolve);
      });
      const { port: bound } = server.address() as AddressInfo;
      io.stderr(`listening on http://127.0.0.1:${bound}/ (stop with Ctrl-C)\n`);
      await untilStopped(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      });
    });
}
