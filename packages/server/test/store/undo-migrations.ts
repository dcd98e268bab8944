/*
 * The agents registry's migration (SQLite 8, PostgreSQL 7) and the keys'
 * (SQLite 10, PostgreSQL 9) undone, for the
 * tests that rewind a store's schema version to re-run an older migration:
 * everything from that version on runs again, so what it added must go first.
 */
export const UNDO_AGENTS_SQLITE = `DROP TABLE agent_tags; DROP TABLE agent_revisions; DROP TABLE agents;
  ALTER TABLE runs DROP COLUMN agent_revision; ALTER TABLE runs DROP COLUMN agent_tag;
  ALTER TABLE sessions DROP COLUMN agent_revision; ALTER TABLE sessions DROP COLUMN agent_tag;
  ALTER TABLE api_keys DROP COLUMN scopes; ALTER TABLE api_keys DROP COLUMN agents;
  ALTER TABLE api_keys DROP COLUMN expires_at; ALTER TABLE api_keys DROP COLUMN last_used_at;`;

export const undoAgentsPostgres = (schema: string): string => `DROP TABLE ${schema}.agent_tags, ${schema}.agent_revisions, ${schema}.agents;
  ALTER TABLE ${schema}.runs DROP COLUMN agent_revision, DROP COLUMN agent_tag;
  ALTER TABLE ${schema}.sessions DROP COLUMN agent_revision, DROP COLUMN agent_tag;
  ALTER TABLE ${schema}.api_keys DROP COLUMN scopes, DROP COLUMN agents, DROP COLUMN expires_at, DROP COLUMN last_used_at;
  DROP TABLE ${schema}.secrets;`;
