export * from "./client.js";
export * from "./live.js";
export type { components, operations, paths } from "./schema.js";
