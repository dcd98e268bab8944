"use strict";
/*
 * Loaded into each soak worker with NODE_OPTIONS=--require (test instrumentation,
 * not server code): after every major (mark-compact) garbage collection, appends
 * V8's used heap size, which is then the live heap plus a little allocated since,
 * to $AGENTD_SOAK_HEAP_DIR/heap-<pid>.jsonl. RSS swings by tens of MB with the
 * collector's cycles; the heap after a full collection is what a leak grows.
 */
const dir = process.env.AGENTD_SOAK_HEAP_DIR;
if (dir) {
  const fs = require("node:fs");
  const path = require("node:path");
  const v8 = require("node:v8");
  const { PerformanceObserver, constants } = require("node:perf_hooks");
  const fd = fs.openSync(path.join(dir, `heap-${process.pid}.jsonl`), "a");
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      const heap = v8.getHeapStatistics();
      const line = { t: Date.now(), used: heap.used_heap_size, total: heap.total_heap_size, external: heap.external_memory };
      try {
        fs.writeSync(fd, `${JSON.stringify(line)}\n`);
      } catch {
        // the soak's directory is gone: nothing to report to
      }
    }
  });
  observer.observe({ entryTypes: ["gc"] });
}
