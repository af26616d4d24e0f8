import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { createNotificationHandler } from "@asc-kit/notifications";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { describeErrno, errnoOf, localError, usageError } from "../report.js";

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
      const secret = io.env[options.secretEnv];
      if (!secret) {
        throw usageError(`${options.secretEnv} is not set: put the webhook's secret in it.`);
      }
      const port = Number(options.port);
      if (!/^\d+$/.test(options.port) || port > 65535) {
        throw usageError("--port must be a port number from 0 to 65535.");
      }
      const handle = createNotificationHandler({
        secret,
        onNotification: (notification) => io.stdout(`${JSON.stringify(notification)}\n`),
      });
      const server = createServer((request, response) => {
        const hasBody = request.method === "POST";
        const webRequest = new Request(`http://localhost${request.url ?? "/"}`, {
          method: request.method ?? "GET",
          headers: request.headers as Record<string, string>,
          ...(hasBody
            ? { body: Readable.toWeb(request) as ReadableStream<Uint8Array>, duplex: "half" }
            : {}),
        } as RequestInit);
        void handle(webRequest).then(
          (answer) => {
            if (answer.status !== 200)
              io.stderr(`refused: ${request.method} answered ${answer.status}\n`);
            response.writeHead(answer.status, Object.fromEntries(answer.headers)).end();
          },
          () => response.writeHead(500).end(),
        );
      });
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
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
