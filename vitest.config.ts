import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; `npm test` also builds dist
    // first so the CLI tests can spawn the real `agentd` binary.
    alias: {
      "@agentd/protocol": src("protocol"),
      "@agentd/client": src("client"),
      "@agentd/server/testing": fileURLToPath(new URL("./packages/server/src/testing/index.ts", import.meta.url)),
      "@agentd/server": src("server"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
  },
});
