// Real DNS clients as judges: run dig or kdig and read what they print.

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  /** Raw text, for messages when an assertion fails. */
  text: string;
  /** The EDNS line(s) and options dig printed (e.g. "; CLIENT-SUBNET: 10.1.2.0/24/16"). */
  opt: string[];
}

export async function dig(server: string, port: number, args: string[]): Promise<DigResult> {
  return runClient("dig", [`@${server}`, "-p", String(port), "+time=2", "+tries=1", "+norecurse", ...args]);
}

export async function kdig(server: string, port: number, args: string[]): Promise<DigResult> {
  return runClient("kdig", [`@${server}`, "-p", String(port), "+time=2", "+retry=0", "+norecurse", ...args]);
}

async function runClient(cmd: string, args: string[]): Promise<DigResult> {
  const proc = Bun.spawn([cmd, ...args], { stdout: "pipe", stderr: "pipe" });
  const [text, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  return parseClientOutput(text + err);
}

/** Understands both dig's and kdig's presentation of a response. */
export function parseClientOutput(text: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? "NONE";
  const flagText = /;; flags: ([a-z ]+);/.exec(text)?.[1] ?? /;; Flags: ([a-z ]+);/.exec(text)?.[1] ?? "";
  const section = (names: string[]) => {
    const lines = text.split("\n");
    const start = lines.findIndex((l) => names.some((n) => l.startsWith(n)));
    if (start < 0) return [];
    const out: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (line.trim() === "" || line.startsWith(";;")) break;
      out.push(line.replace(/\s+/g, " ").trim());
    }
    return out;
  };
  return {
    status,
    flags: flagText.trim().split(/\s+/).filter(Boolean),
    answer: section([";; ANSWER SECTION:"]),
    authority: section([";; AUTHORITY SECTION:"]),
    additional: section([";; ADDITIONAL SECTION:"]),
    opt: text.split("\n").filter((l) => /CLIENT-SUBNET|EDNS|udp:|UDP/.test(l)),
    text,
  };
}
