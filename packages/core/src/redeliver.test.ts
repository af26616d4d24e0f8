import { describe, expect, it } from "vitest";
import type { WebhookDelivery } from "./marketplace.js";
import { undeliveredEvents } from "./redeliver.js";

const delivery = (
  id: string,
  eventId: string | undefined,
  deliveryState: "SUCCEEDED" | "FAILED" | "PENDING",
  createdDate: string,
): WebhookDelivery =>
  ({
    type: "webhookDeliveries",
    id,
    attributes: { deliveryState, createdDate },
    ...(eventId
      ? { relationships: { event: { data: { type: "webhookEvents", id: eventId } } } }
      : {}),
  }) as WebhookDelivery;

describe("undeliveredEvents", () => {
  it("names each event whose every delivery failed once, with its newest failure", () => {
    const found = undeliveredEvents([
      delivery("d1", "e1", "FAILED", "2026-12-01T10:00:00Z"),
      delivery("d2", "e1", "FAILED", "2026-12-01T11:00:00Z"),
      delivery("d3", "e2", "FAILED", "2026-12-01T10:00:00Z"),
      delivery("d4", "e2", "SUCCEEDED", "2026-12-01T12:00:00Z"),
      delivery("d5", "e3", "PENDING", "2026-12-01T10:00:00Z"),
      delivery("d6", "e3", "FAILED", "2026-12-01T09:00:00Z"),
      delivery("d7", undefined, "FAILED", "2026-12-01T09:00:00Z"),
    ]);
    expect([...found].map(([eventId, template]) => [eventId, template.id])).toEqual([
      ["e1", "d2"],
      ["d7", "d7"],
    ]);
  });
});
