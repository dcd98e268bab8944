import { MemoryEventBus } from "../../src/bus/memory.js";
import { busContract } from "./contract.js";

busContract("memory", async () => {
  const bus = new MemoryEventBus();
  return { publisher: bus, subscriber: bus };
});
