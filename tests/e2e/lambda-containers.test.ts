import { describe, expect, it } from "vitest";
import { applyEnvironment, FunctionContainers, InvocationDropped } from "../../local/lambda.js";

/** A promise the test settles by hand, so ordering is decided by the test, never by a clock. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Lets every pending promise callback run (no I/O is involved, so this is deterministic). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("local Lambda containers", () => {
  it("serve one invocation at a time each, and reuse an idle container instead of cold-starting", async () => {
    let created = 0;
    const containers = new FunctionContainers(async () => ({ id: ++created }), 10);
    const first = gate();
    const seen: number[] = [];
    const running = containers.invoke(async (c) => {
      seen.push(c.id);
      await first.opened;
    });
    await containers.invoke(async (c) => void seen.push(c.id));
    first.open();
    await running;
    await containers.invoke(async (c) => void seen.push(c.id));
    // Two at once needed two containers; the third invocation found one idle.
    expect(seen[0]).not.toBe(seen[1]);
    expect(containers.size).toBe(2);
    expect(seen).toHaveLength(3);
  });

  it("never run more invocations at once than the concurrency limit; the rest wait their turn", async () => {
    const containers = new FunctionContainers(async () => ({}), 2);
    const gates = Array.from({ length: 4 }, gate);
    const started: number[] = [];
    const invocations = gates.map((g, i) =>
      containers.invoke(async () => {
        started.push(i);
        await g.opened;
      }),
    );
    await settled();
    expect(started).toEqual([0, 1]);
    gates[1]!.open();
    await settled();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await Promise.all(invocations);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(containers.size).toBe(2);
  });

  it("bound the waiting list: past it an invocation is dropped at once with WaitingListFull, and never runs", async () => {
    const containers = new FunctionContainers(async () => ({}), 1, { maxWaiting: 1 });
    const busy = gate();
    const ran: string[] = [];
    const first = containers.invoke(async () => {
      ran.push("first");
      await busy.opened;
    });
    await settled();
    const second = containers.invoke(async () => void ran.push("second"));
    const third = containers.invoke(async () => void ran.push("third"));
    await expect(third).rejects.toMatchObject({ name: "InvocationDropped", condition: "WaitingListFull" });
    expect(containers.waitingCount).toBe(1);
    busy.open();
    await Promise.all([first, second]);
    expect(ran).toEqual(["first", "second"]);
  });

  it("drop an invocation that waited longer than the maximum event age, as Lambda does (EventAgeExceeded)", async () => {
    const containers = new FunctionContainers(async () => ({}), 1, { maxWaitMs: 50 });
    const busy = gate();
    const first = containers.invoke(() => busy.opened);
    await settled();
    const late = containers.invoke(async () => "ran");
    await expect(late).rejects.toBeInstanceOf(InvocationDropped);
    await expect(late).rejects.toMatchObject({ condition: "EventAgeExceeded" });
    expect(containers.waitingCount).toBe(0);
    busy.open();
    await first;
    expect(await containers.invoke(async () => "next")).toBe("next");
  });

  it("do not count a container whose start failed", async () => {
    let attempts = 0;
    const containers = new FunctionContainers(async () => {
      if (++attempts === 1) throw new Error("bad config");
      return {};
    }, 1);
    await expect(containers.invoke(async () => "ran")).rejects.toThrow("bad config");
    await expect(containers.invoke(async () => "ran")).resolves.toBe("ran");
    expect(containers.size).toBe(1);
  });
});

describe("applyEnvironment", () => {
  it("sets and unsets variables and restores exactly what was there", () => {
    process.env.LOCAL_TEST_KEEP = "before";
    delete process.env.LOCAL_TEST_NEW;
    const restore = applyEnvironment({ LOCAL_TEST_KEEP: undefined, LOCAL_TEST_NEW: "set" });
    expect(process.env.LOCAL_TEST_KEEP).toBeUndefined();
    expect(process.env.LOCAL_TEST_NEW).toBe("set");
    restore();
    expect(process.env.LOCAL_TEST_KEEP).toBe("before");
    expect("LOCAL_TEST_NEW" in process.env).toBe(false);
  });
});
