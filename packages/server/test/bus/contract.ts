import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventBus } from "../../src/bus/types.js";
import type { StoredEvent } from "../../src/store/types.js";
import { waitFor } from "./redis-env.js";

/**
 * Two processes' buses on one backend: what `publisher` publishes reaches
 * `subscriber`'s listeners. In-process, both are the same bus.
 */
export interface BusPair {
  publisher: EventBus;
  subscriber: EventBus;
}

export function event(runId: string, seq: number): StoredEvent {
  return { runId, seq, type: "text_delta", data: JSON.stringify({ seq, type: "text_delta", text: `t"${seq}\n` }) };
}

/** The one EventBus contract, run against every implementation. */
export function busContract(name: string, open: () => Promise<BusPair>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip ?? false)(`EventBus contract: ${name}`, () => {
    let publisher: EventBus;
    let subscriber: EventBus;

    beforeEach(async () => {
      ({ publisher, subscriber } = await open());
    });
    afterEach(async () => {
      await publisher.close();
      if (subscriber !== publisher) await subscriber.close();
    });

    /** Publishes on a channel the subscriber listens to and waits for it: everything published before has arrived. */
    async function barrier(): Promise<void> {
      let seen = false;
      const off = subscriber.subscribe("barrier", () => (seen = true));
      await subscriber.ready();
      publisher.publish("barrier", [event("barrier", 1)]);
      await waitFor(() => seen, 5_000, "the barrier publication");
      off();
    }

    it("delivers a channel's batches whole and in publish order", async () => {
      const got: StoredEvent[][] = [];
      subscriber.subscribe("run_a", (events) => got.push([...events]));
      await subscriber.ready();
      const sent: StoredEvent[][] = [];
      let seq = 0;
      for (let i = 0; i < 200; i++) {
        const batch = Array.from({ length: 1 + (i % 3) }, () => event("run_a", ++seq));
        sent.push(batch);
        publisher.publish("run_a", batch);
      }
      await waitFor(() => got.length === sent.length, 5_000, "200 batches");
      expect(got).toEqual(sent);
    });

    it("keeps channels apart", async () => {
      const a: number[] = [];
      const b: number[] = [];
      subscriber.subscribe("run_a", (events) => a.push(...events.map((e) => e.seq)));
      subscriber.subscribe("run_b", (events) => b.push(...events.map((e) => e.seq)));
      await subscriber.ready();
      publisher.publish("run_a", [event("run_a", 1)]);
      publisher.publish("run_b", [event("run_b", 1), event("run_b", 2)]);
      publisher.publish("run_a", [event("run_a", 2)]);
      await waitFor(() => a.length === 2 && b.length === 2);
      await barrier();
      expect(a).toEqual([1, 2]);
      expect(b).toEqual([1, 2]);
    });

    it("delivers every batch to every subscriber, in every process", async () => {
      const got = [[], [], []] as number[][];
      subscriber.subscribe("run_a", (events) => got[0]!.push(...events.map((e) => e.seq)));
      subscriber.subscribe("run_a", (events) => got[1]!.push(...events.map((e) => e.seq)));
      publisher.subscribe("run_a", (events) => got[2]!.push(...events.map((e) => e.seq)));
      await Promise.all([subscriber.ready(), publisher.ready()]);
      for (let seq = 1; seq <= 10; seq++) publisher.publish("run_a", [event("run_a", seq)]);
      await waitFor(() => got.every((list) => list.length === 10));
      for (const list of got) expect(list).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it("stops delivering to a listener once it unsubscribes, and resubscribes", async () => {
      const first: number[] = [];
      const second: number[] = [];
      const offFirst = subscriber.subscribe("run_a", (events) => first.push(...events.map((e) => e.seq)));
      const offSecond = subscriber.subscribe("run_a", (events) => second.push(...events.map((e) => e.seq)));
      await subscriber.ready();
      offFirst();
      offFirst(); // idempotent
      publisher.publish("run_a", [event("run_a", 1)]);
      await waitFor(() => second.length === 1);
      // The channel's last listener goes: nothing more arrives for it.
      offSecond();
      publisher.publish("run_a", [event("run_a", 2)]);
      await barrier();
      expect(first).toEqual([]);
      expect(second).toEqual([1]);
      // And a new listener on the same channel is served again.
      const third: number[] = [];
      subscriber.subscribe("run_a", (events) => third.push(...events.map((e) => e.seq)));
      await subscriber.ready();
      publisher.publish("run_a", [event("run_a", 3)]);
      await waitFor(() => third.length === 1);
      expect(third).toEqual([3]);
    });

    it("signals reach every process, the sender included, in order, by topic", async () => {
      const remote: string[] = [];
      const local: string[] = [];
      const other: string[] = [];
      subscriber.onSignal("cancel", (message) => remote.push(message));
      const offLocal = publisher.onSignal("cancel", (message) => local.push(message));
      subscriber.onSignal("wake", (message) => other.push(message));
      await Promise.all([subscriber.ready(), publisher.ready()]);
      publisher.signal("cancel", "run_1");
      publisher.signal("wake", "queued");
      publisher.signal("cancel", "run_2");
      await waitFor(() => remote.length === 2 && local.length === 2 && other.length === 1);
      expect(remote).toEqual(["run_1", "run_2"]);
      expect(local).toEqual(["run_1", "run_2"]);
      expect(other).toEqual(["queued"]);

      offLocal();
      publisher.signal("cancel", "run_3");
      await waitFor(() => remote.length === 3);
      await barrier();
      expect(local).toEqual(["run_1", "run_2"]);
    });

    it("ready() resolves with or without subscriptions", async () => {
      await subscriber.ready();
      await publisher.ready();
      const off = publisher.onReconnect(() => undefined);
      off();
    });

    it("publish and signal never throw, even after close", async () => {
      await subscriber.close();
      await publisher.close();
      expect(() => publisher.publish("run_a", [event("run_a", 1)])).not.toThrow();
      expect(() => publisher.signal("cancel", "run_a")).not.toThrow();
      await publisher.close(); // idempotent
    });
  });
}
