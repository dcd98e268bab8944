#!/usr/bin/env node
// The installed `agentd` command. A committed shim rather than dist/bin.js
// itself: npm links bins before the workspace's build (prepare) has run, and
// skips a bin whose file does not exist yet.
import "../dist/bin.js";
