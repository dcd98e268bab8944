/*
 * The agents registry's migration (SQLite 8, PostgreSQL 7) undone, for the
 * tests that rewind a store's schema version to re-run an older migration:
 * everything from that version on runs again, so what it added must go first.
 */
export const UNDO_AGENTS_SQLITE = `DROP TABLE agent_tags; DROP TABLE agent_revisions; DROP TABLE agents;
  ALTER TABLE runs DROP COLUMN agent_revision; ALTER TABLE runs DROP COLUMN agent_tag;
  ALTER TABLE sessions DROP COLUMN agent_revision; ALTER TABLE sessions DROP COLUMN agent_tag;`;

export const undoAgentsPostgres = (schema: string): string => `DROP TABLE ${schema}.agent_tags, ${schema}.agent_revisions, ${schema}.agents;
  ALTER TABLE ${schema}.runs DROP COLUMN agent_revision, DROP COLUMN agent_tag;
  ALTER TABLE ${schema}.sessions DROP COLUMN agent_revision, DROP COLUMN agent_tag;`;
