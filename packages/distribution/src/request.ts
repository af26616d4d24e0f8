import { readBounded } from "@asc-kit/errors";
import { platforms } from "./versions.js";
import type { Platform } from "./versions.js";

/** A restore or updates request, checked. */
export interface AppsRequest {
  apps: Array<{ appleItemId: string; appleVersionId?: string }>;
  platform: Platform;
  osVersion: string;
}

/** Why a request was refused: answered 4xx with this code and message as JSON. */
export class RequestProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A restore or updates body is a few hundred bytes per app. */
export const maxBodyBytes = 64 * 1024;
/** Apps in one request at most; a device groups one account's apps, a few dozen at most. */
export const maxApps = 200;
const appleId = /^\d{1,20}$/;
const osVersionPattern = /^\d{1,4}(\.\d{1,4}){0,3}$/;

/**
 * Reads and checks a restore or updates body: at most `maxBodyBytes` read, JSON (parsed once,
 * in linear time), `apps` a list of at most `maxApps` objects with an `appleItemId` of digits
 * (Apple sends the ids as strings of digits), a known `platform` and an `osVersion`.
 */
export async function readAppsRequest(request: Request): Promise<AppsRequest> {
  const text = await readText(request);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RequestProblem(400, "BODY_NOT_JSON", "The body is not JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new RequestProblem(400, "BODY_INVALID", "The body must be a JSON object.");
  }
  const record = body as Record<string, unknown>;
  const platform = record.platform;
  if (typeof platform !== "string" || !(platforms as readonly string[]).includes(platform)) {
    throw new RequestProblem(
      400,
      "PLATFORM_UNKNOWN",
      `platform must be one of ${platforms.join(", ")}.`,
    );
  }
  const osVersion = record.osVersion;
  if (typeof osVersion !== "string" || !osVersionPattern.test(osVersion)) {
    throw new RequestProblem(
      400,
      "OS_VERSION_INVALID",
      'osVersion must be a version such as "17.4".',
    );
  }
  return { apps: appsOf(record.apps), platform: platform as Platform, osVersion };
}

function appsOf(value: unknown): AppsRequest["apps"] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RequestProblem(400, "APPS_INVALID", "apps must be a list of at least one app.");
  }
  if (value.length > maxApps) {
    throw new RequestProblem(400, "TOO_MANY_APPS", `apps lists more than ${maxApps} apps.`);
  }
  const seen = new Set<string>();
  const apps: AppsRequest["apps"] = [];
  for (const [index, entry] of value.entries()) {
    const app = (typeof entry === "object" && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >;
    const { appleItemId, appleVersionId } = app;
    if (typeof appleItemId !== "string" || !appleId.test(appleItemId)) {
      throw new RequestProblem(
        400,
        "APPLE_ITEM_ID_INVALID",
        `apps[${index}].appleItemId must be an Apple ID: a string of digits.`,
      );
    }
    if (
      appleVersionId !== undefined &&
      (typeof appleVersionId !== "string" || !appleId.test(appleVersionId))
    ) {
      throw new RequestProblem(
        400,
        "APPLE_VERSION_ID_INVALID",
        `apps[${index}].appleVersionId must be an Apple ID: a string of digits.`,
      );
    }
    if (seen.has(appleItemId)) continue;
    seen.add(appleItemId);
    apps.push(appleVersionId === undefined ? { appleItemId } : { appleItemId, appleVersionId });
  }
  return apps;
}

async function readText(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  const tooLarge = () =>
    new RequestProblem(413, "BODY_TOO_LARGE", `The body is larger than ${maxBodyBytes} bytes.`);
  if (declared > maxBodyBytes) throw tooLarge();
  let read;
  try {
    read = await readBounded(request.body, maxBodyBytes);
  } catch {
    throw new RequestProblem(400, "BODY_UNREADABLE", "The body could not be read to its end.");
  }
  if (!read.complete) throw tooLarge();
  return new TextDecoder().decode(read.bytes);
}
