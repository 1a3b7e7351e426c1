// Reading Prometheus text exposition in tests: samples by name and labels, and promtool as a judge.

export type Samples = Map<string, number>;

/** `name{a="1",b="2"}` with labels sorted, so a test can name a series in any label order. */
export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

export function parseSamples(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.set(seriesKey(m[1]!, labels), Number(m[3]));
  }
  return samples;
}

/** A sample's value; 0 when the series is not there (a counter not yet incremented). */
export function value(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples.get(seriesKey(name, labels)) ?? 0;
}

export async function scrape(address: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`http://${address}/metrics`);
  return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() };
}

/** `promtool check metrics` on the text: its exit code and everything it printed. */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const promtool = Bun.which("promtool");
  if (!promtool) throw new Error("promtool is not installed (apt-get install prometheus; see .ci/run)");
  const proc = Bun.spawn([promtool, "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, output: (out + err).trim() };
}
