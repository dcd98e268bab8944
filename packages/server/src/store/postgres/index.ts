export { PostgresStore, type PostgresStoreOptions } from "./store.js";
export { SCHEMA_VERSION } from "./migrations.js";
