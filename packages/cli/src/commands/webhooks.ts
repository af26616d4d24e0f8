import {
  alternativeDistributionEventTypes,
  createWebhook,
  listAppWebhooks,
  paginate,
  pingWebhook,
  redeliverFailedDeliveries,
  redeliverWebhookDelivery,
  removeWebhook,
  updateWebhook,
  webhookEventTypes,
} from "@asc-kit/core";
import type { Webhook, WebhookDelivery, WebhookEventType } from "@asc-kit/core";
import { Option } from "commander";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { table } from "../output.js";
import { ExitCode } from "../exit-codes.js";
import { CliError, usageError } from "../report.js";
import { confirm, secretFromEnv, unwrap } from "./shared.js";

const columns = ["ID", "NAME", "ENABLED", "URL", "EVENTS"];

/** `asc-kit webhooks …`: where App Store Connect sends a marketplace's notifications. */
export function registerWebhooks(program: Command, context: Context): void {
  const { io, out } = context;
  const webhooks = program
    .command("webhooks")
    .description(
      "manage webhooks (/v1/webhooks): where notifications are sent, and their deliveries",
    );
  /** The secret from the variable named, never from the command line (it would show in `ps`). */
  const secretFrom = (name: string) => secretFromEnv(io, name);

  webhooks
    .command("create")
    .description("register a webhook for an app (the alternative distribution events by default)")
    .requiredOption(
      "--app <appId>",
      "the app the webhook belongs to (a marketplace: its marketplace app)",
    )
    .requiredOption("--name <name>", "a name for the webhook")
    .requiredOption("--url <url>", "where notifications are POSTed (https; http on loopback)")
    .requiredOption(
      "--secret-env <name>",
      "the environment variable that holds the secret to sign with",
    )
    .option(
      "--events <types>",
      "comma-separated event types",
      alternativeDistributionEventTypes.join(","),
    )
    .option("--disabled", "create it disabled")
    .action(
      async (options: {
        app: string;
        name: string;
        url: string;
        secretEnv: string;
        events: string;
        disabled?: boolean;
      }) => {
        const created = unwrap(
          await createWebhook(await context.client(), {
            appId: options.app,
            name: options.name,
            url: options.url,
            secret: secretFrom(options.secretEnv),
            eventTypes: eventTypesOf(options.events),
            enabled: !options.disabled,
          }),
        ).data;
        await out(`Created webhook ${created.id} for app ${options.app}.\n`, created);
      },
    );

  webhooks
    .command("list")
    .description("list an app's webhooks")
    .requiredOption("--app <appId>", "the app")
    .action(async (options: { app: string }) => {
      const list = unwrap(await listAppWebhooks(await context.client(), options.app));
      await out(list.length === 0 ? "No webhooks.\n" : table(columns, list.map(webhookRow)), list);
    });

  webhooks
    .command("update")
    .description("change a webhook: only what is given changes")
    .argument("<id>")
    .option("--name <name>", "a new name")
    .option("--url <url>", "a new URL")
    .option("--secret-env <name>", "the environment variable that holds the new secret")
    .option("--events <types>", "comma-separated event types, replacing the current ones")
    .addOption(new Option("--enable", "enable it").conflicts("disable"))
    .option("--disable", "disable it")
    .action(
      async (
        id: string,
        options: {
          name?: string;
          url?: string;
          secretEnv?: string;
          events?: string;
          enable?: boolean;
          disable?: boolean;
        },
      ) => {
        const changes = {
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.url !== undefined ? { url: options.url } : {}),
          ...(options.secretEnv !== undefined ? { secret: secretFrom(options.secretEnv) } : {}),
          ...(options.events !== undefined ? { eventTypes: eventTypesOf(options.events) } : {}),
          ...(options.enable ? { enabled: true } : options.disable ? { enabled: false } : {}),
        };
        if (Object.keys(changes).length === 0) {
          throw usageError(
            "Nothing to change: give --name, --url, --secret-env, --events, --enable or --disable.",
          );
        }
        const updated = unwrap(await updateWebhook(await context.client(), id, changes)).data;
        await out(`Updated webhook ${id}.\n`, updated);
      },
    );

  webhooks
    .command("remove")
    .alias("delete")
    .description("remove a webhook")
    .argument("<id>")
    .option("--yes", "do not ask for confirmation")
    .action(async (id: string, options: { yes?: boolean }) => {
      await confirm(io, options.yes, `Remove webhook ${id}? [y/N] `);
      unwrap(await removeWebhook(await context.client(), id));
      await out(`Removed webhook ${id}.\n`, { removed: id });
    });

  webhooks
    .command("ping")
    .description("ask App Store Connect to send the webhook a test notification")
    .argument("<id>")
    .action(async (id: string) => {
      const ping = unwrap(await pingWebhook(await context.client(), id)).data;
      await out(
        `Sent a ping to webhook ${id}: 'asc-kit webhooks deliveries ${id}' shows how it went.\n`,
        ping,
      );
    });

  webhooks
    .command("deliveries")
    .description("list a webhook's deliveries, newest first, and how the endpoint answered")
    .argument("<id>")
    .addOption(
      new Option("--state <state>", "only deliveries in this state").choices([
        "SUCCEEDED",
        "FAILED",
        "PENDING",
      ]),
    )
    .action(async (id: string, options: { state?: string }) => {
      const { deliveries: all, events } = await deliveriesWithEvents(await context.client(), id);
      const list = options.state
        ? all.filter((item) => item.attributes?.deliveryState === options.state)
        : all;
      const rows = list.map((delivery) => deliveryRow(delivery, events));
      await out(
        list.length === 0
          ? "No deliveries.\n"
          : table(["ID", "EVENT", "STATE", "HTTP", "CREATED", "REDELIVERY", "ERROR"], rows),
        list,
      );
    });

  webhooks
    .command("redeliver")
    .description("send a delivery's notification again")
    .argument("<deliveryId>")
    .action(async (deliveryId: string) => {
      const delivery = unwrap(
        await redeliverWebhookDelivery(await context.client(), deliveryId),
      ).data;
      await out(`Redelivering as ${delivery.id}.\n`, delivery);
    });

  webhooks
    .command("redeliver-failed")
    .description(
      "send again every event that never reached the endpoint (all its deliveries failed)",
    )
    .argument("<id>", "the webhook")
    .action(async (id: string) => {
      const redeliveries = unwrap(await redeliverFailedDeliveries(await context.client(), id));
      const refused = redeliveries.filter((entry) => entry.error);
      const sent = redeliveries.length - refused.length;
      const lines = refused.map((entry) => `refused: event ${entry.eventId}: ${entry.error}\n`);
      await out(
        redeliveries.length === 0
          ? "Nothing to redeliver: every event reached the endpoint, or is still on its way.\n"
          : `Redelivering ${sent} event${sent === 1 ? "" : "s"}.\n${lines.join("")}`,
        redeliveries,
      );
      if (refused.length > 0) {
        throw new CliError(
          `App Store Connect refused ${refused.length} of ${redeliveries.length} redeliveries.`,
          ExitCode.requestRefused,
          "REDELIVERY_REFUSED",
        );
      }
    });
}

const knownEventTypes = new Set<string>(webhookEventTypes);

function eventTypesOf(list: string): WebhookEventType[] {
  const types = list
    .split(",")
    .map((type) => type.trim().toUpperCase())
    .filter(Boolean);
  const unknown = types.filter((type) => !knownEventTypes.has(type));
  if (types.length === 0 || unknown.length > 0) {
    throw usageError(
      `${unknown.length > 0 ? `Unknown event type ${unknown.map((type) => type.slice(0, 60)).join(", ")}` : "No event type"}: use ${[...knownEventTypes].join(", ")}.`,
    );
  }
  return types as WebhookEventType[];
}

function webhookRow(webhook: Webhook): string[] {
  const attributes = webhook.attributes ?? {};
  return [
    webhook.id,
    attributes.name ?? "",
    attributes.enabled === undefined ? "" : attributes.enabled ? "yes" : "no",
    attributes.url ?? "",
    (attributes.eventTypes ?? []).join(","),
  ];
}

/**
 * A webhook's deliveries, with the type of each one's event (`include=event`, only the event's
 * type and whether it is a ping): what tells a ping from a version notification.
 */
async function deliveriesWithEvents(
  client: Awaited<ReturnType<Context["client"]>>,
  webhookId: string,
): Promise<{ deliveries: WebhookDelivery[]; events: Map<string, string> }> {
  const deliveries: WebhookDelivery[] = [];
  const events = new Map<string, string>();
  const pages = paginate(client, "/v1/webhooks/{id}/deliveries", {
    params: {
      path: { id: webhookId },
      query: { limit: 200, include: ["event"], "fields[webhookEvents]": ["eventType", "ping"] },
    },
  });
  for await (const page of pages) {
    deliveries.push(...page.data);
    for (const event of page.included ?? []) {
      const attributes = event.attributes as { eventType?: string; ping?: boolean } | undefined;
      events.set(event.id, attributes?.ping ? "PING" : (attributes?.eventType ?? ""));
    }
  }
  return { deliveries, events };
}

function deliveryRow(delivery: WebhookDelivery, events: Map<string, string>): string[] {
  const attributes = delivery.attributes ?? {};
  const eventId = delivery.relationships?.event?.data?.id;
  return [
    delivery.id,
    (eventId && events.get(eventId)) || "",
    attributes.deliveryState ?? "",
    attributes.response?.httpStatusCode === undefined
      ? ""
      : String(attributes.response.httpStatusCode),
    attributes.createdDate ?? "",
    attributes.redelivery ? "yes" : "no",
    (attributes.errorMessage ?? "").slice(0, 80),
  ];
}
