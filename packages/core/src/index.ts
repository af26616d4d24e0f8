export type { components, operations, paths } from "./generated/app-store-connect.js";
