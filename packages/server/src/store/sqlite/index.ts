export { SqliteStore } from "./store.js";
export { SCHEMA_VERSION } from "./migrations.js";
