import { MemoryRunQueue } from "../../src/queue/memory.js";
import { queueContract } from "./contract.js";

queueContract("memory", async () => ({ worker: () => new MemoryRunQueue(), cleanup: async () => undefined }));
