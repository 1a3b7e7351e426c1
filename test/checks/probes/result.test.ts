import { describe, expect, test } from "bun:test";
import { CappedText, defineProbe, describeError, firstLine, up } from "../../../src/checks/probes/result.ts";
import { targetOf } from "./loopback.ts";

const tcpTarget = targetOf({ type: "tcp" }, 1, { timeout: 150 });

describe("defineProbe", () => {
  test("times the check and passes its verdict through", async () => {
    const probe = defineProbe(["tcp"], async () => up("fine"));
    const result = await probe(tcpTarget, new AbortController().signal);
    expect(result.status).toBe("up");
    expect(result.detail).toBe("fine");
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  test("a check that throws becomes down with the error's first line", async () => {
    const probe = defineProbe(["tcp"], async () => {
      throw new Error("socket exploded\nstack-ish noise");
    });
    const result = await probe(tcpTarget, new AbortController().signal);
    expect(result).toMatchObject({ status: "down", detail: "socket exploded" });
  });

  test("settles at the abort even when the check never does", async () => {
    let sawAbort = false;
    const probe = defineProbe(["tcp"], (_settings, _target, signal) => {
      signal.addEventListener("abort", () => (sawAbort = true));
      return new Promise(() => {});
    });
    const started = performance.now();
    const result = await probe(tcpTarget, AbortSignal.timeout(tcpTarget.check.timeout));
    expect(result).toMatchObject({ status: "down", detail: "timeout after 150 ms" });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sawAbort).toBe(true);
  });

  test("does not start the check when the signal is already aborted", async () => {
    let started = false;
    const probe = defineProbe(["tcp"], async () => {
      started = true;
      return up("ran");
    });
    const result = await probe(tcpTarget, AbortSignal.abort());
    expect(result.detail).toBe("timeout after 150 ms");
    expect(started).toBe(false);
  });

  test("a check of another kind is down, not a crash", async () => {
    const probe = defineProbe(["dns"], async () => up("ran"));
    const result = await probe(tcpTarget, new AbortController().signal);
    expect(result).toMatchObject({ status: "down", detail: "a dns probe cannot run a tcp check" });
  });
});

describe("details", () => {
  test("known socket codes read as phrases", () => {
    expect(describeError(Object.assign(new Error("Failed to connect"), { code: "ECONNREFUSED" }))).toBe("connect refused");
    expect(describeError("plain string")).toBe("plain string");
  });

  test("firstLine skips blank lines and cuts long ones", () => {
    expect(firstLine("\n  \n  second line \nthird")).toBe("second line");
    expect(firstLine("x".repeat(500))).toBe(`${"x".repeat(200)}…`);
  });
});

describe("CappedText", () => {
  test("keeps bytes up to the limit and drops the rest", () => {
    const text = new CappedText(5);
    text.add(new TextEncoder().encode("abc"));
    expect(text.full).toBe(false);
    text.add(new TextEncoder().encode("defgh"));
    text.add(new TextEncoder().encode("ijk"));
    expect(text.text).toBe("abcde");
    expect(text.full).toBe(true);
  });

  test("a character split across chunks is decoded whole", () => {
    const bytes = new TextEncoder().encode("é!");
    const text = new CappedText(100);
    text.add(bytes.subarray(0, 1));
    text.add(bytes.subarray(1));
    expect(text.text).toBe("é!");
  });
});
