import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { numberedPlaceholders } from "../../src/store/sql/dialect.js";
import { statements as sharedStatements } from "../../src/store/sql/statements.js";
import { postgresDialect } from "../../src/store/postgres/dialect.js";

/*
 * The dialect seam (docs/store.md): shared statements are spelled once and
 * rendered per dialect. SQLite prepares every one when a store opens, so a
 * statement it cannot parse fails every SQLite test; PostgreSQL prepares a
 * named statement on first use, so one the contract never reaches would
 * fail only in production. This prepares them all.
 */

describe("numberedPlaceholders", () => {
  it("numbers ? in order and leaves quoted strings and identifiers alone", () => {
    expect(numberedPlaceholders(`SELECT a AS "a?", '?' FROM t WHERE x = ? AND y IN (?, ?)`)).toBe(
      `SELECT a AS "a?", '?' FROM t WHERE x = $1 AND y IN ($2, $3)`,
    );
  });
});

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

describe("shared statements on PostgreSQL", () => {
  it("every one prepares against the migrated schema", async (context) => {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
    } catch {
      context.skip();
    }
    const schema = `agentd_test_${randomBytes(5).toString("hex")}`;
    try {
      await (await openStore({ databaseUrl, schema })).close();
      const dialect = postgresDialect(`"${schema}"`);
      const failed: string[] = [];
      for (const [id, text] of Object.entries(sharedStatements(dialect))) {
        await client.query(`PREPARE agentd_seam_check AS ${dialect.placeholders(text)}`).then(
          () => client.query("DEALLOCATE agentd_seam_check"),
          (error: Error) => failed.push(`${id}: ${error.message}`),
        );
      }
      expect(failed).toEqual([]);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });
});
