/*
 * The migrations from the agents registry's on (SQLite 8, 10 and 11,
 * PostgreSQL 7, 9 and 10; the traces' tables are created IF NOT EXISTS)
 * undone, for the tests that rewind a store's schema version to re-run an
 * older migration: everything from that version on runs again, so what it
 * added must go first.
 */

/** The usage columns and key of runs (SQLite 10, PostgreSQL 9). */
const USAGE_COLUMNS = [
  "key_id",
  "usage_input_tokens",
  "usage_output_tokens",
  "usage_cached_input_tokens",
  "usage_model_calls",
  "usage_tool_calls",
  "usage_cost_nanos",
];

/** What a key may do (SQLite 11, PostgreSQL 10: issue #12), and PostgreSQL's secrets table; its limits (SQLite 13-14, PostgreSQL 12-13). */
const UNDO_KEYS_SQLITE = `DROP INDEX IF EXISTS runs_key_created; DROP TABLE IF EXISTS key_usage_days; ALTER TABLE api_keys DROP COLUMN limits; ALTER TABLE api_keys DROP COLUMN scopes; ALTER TABLE api_keys DROP COLUMN agents;
  ALTER TABLE api_keys DROP COLUMN expires_at; ALTER TABLE api_keys DROP COLUMN last_used_at;`;
const undoKeysPostgres = (schema: string): string =>
  `DROP INDEX IF EXISTS ${schema}.runs_key_created; DROP TABLE IF EXISTS ${schema}.key_usage_days;
  ALTER TABLE ${schema}.api_keys DROP COLUMN limits, DROP COLUMN scopes, DROP COLUMN agents, DROP COLUMN expires_at, DROP COLUMN last_used_at;
  DROP TABLE ${schema}.secrets;`;

export const UNDO_USAGE_SQLITE = `${UNDO_KEYS_SQLITE} ${USAGE_COLUMNS.map((column) => `ALTER TABLE runs DROP COLUMN ${column};`).join(" ")}`;

export const undoUsagePostgres = (schema: string): string =>
  `${undoKeysPostgres(schema)} ALTER TABLE ${schema}.runs ${USAGE_COLUMNS.map((column) => `DROP COLUMN ${column}`).join(", ")};`;

export const UNDO_AGENTS_SQLITE = `${UNDO_USAGE_SQLITE} DROP TABLE agent_tags; DROP TABLE agent_revisions; DROP TABLE agents;
  ALTER TABLE runs DROP COLUMN agent_revision; ALTER TABLE runs DROP COLUMN agent_tag;
  ALTER TABLE sessions DROP COLUMN agent_revision; ALTER TABLE sessions DROP COLUMN agent_tag;`;

export const undoAgentsPostgres = (
  schema: string,
): string => `${undoUsagePostgres(schema)} DROP TABLE ${schema}.agent_tags, ${schema}.agent_revisions, ${schema}.agents;
  ALTER TABLE ${schema}.runs DROP COLUMN agent_revision, DROP COLUMN agent_tag;
  ALTER TABLE ${schema}.sessions DROP COLUMN agent_revision, DROP COLUMN agent_tag;`;
