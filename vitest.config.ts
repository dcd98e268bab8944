import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; `npm test` also builds dist
    // first so the CLI tests can spawn the real `agentd` binary.
    alias: {
      // The seed 004 SDK (loaded from ../shared by the compatibility test)
      // imports zod from outside this tree: point it at ours.
      zod: require.resolve("zod"),
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
    // The suite-wide log check (issue #12): every key made, searched for in every log line and error body.
    globalSetup: ["packages/server/test/hygiene/suite-logs.ts"],
  },
});
