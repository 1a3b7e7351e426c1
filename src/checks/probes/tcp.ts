// tcp probe: the connection completes; optionally `send` is written and `expect` must show up in what
// comes back (within the first 64 KiB). The socket is closed on every path, the abort included.

import type { Socket } from "bun";
import { CappedText, defineProbe, describeError, down, firstLine, untilAborted, up, type Verdict } from "./result.ts";

const REPLY_LIMIT_BYTES = 64 * 1024;

export const tcpProbe = defineProbe(["tcp"], async (settings, target, signal) => {
  const send = settings.send === undefined ? undefined : new TextEncoder().encode(unescapeControls(settings.send));
  const expect = settings.expect === undefined ? undefined : unescapeControls(settings.expect);
  const reply = new CappedText(REPLY_LIMIT_BYTES);
  let unsent = send ?? new Uint8Array();
  let settle!: (verdict: Verdict) => void;
  const verdict = new Promise<Verdict>((resolve) => (settle = resolve));

  const writeSome = (socket: Socket) => {
    if (unsent.length > 0) unsent = unsent.subarray(Math.max(0, socket.write(unsent)));
  };
  const closedEarly = () =>
    settle(down(`closed before "${settings.expect}" arrived${reply.text ? `; got "${firstLine(reply.text)}"` : ""}`));

  const socket = await Bun.connect({
    hostname: target.address,
    port: target.port,
    socket: {
      open(socket) {
        writeSome(socket);
        if (expect === undefined) settle(up("connected"));
      },
      drain: writeSome,
      data(_socket, chunk) {
        reply.add(chunk);
        if (expect !== undefined && reply.text.includes(expect)) settle(up(`received "${settings.expect}"`));
        else if (reply.full) settle(down(`"${settings.expect}" not in the first ${REPLY_LIMIT_BYTES} bytes`));
      },
      end: closedEarly,
      close: closedEarly,
      error: (_socket, err) => settle(down(describeError(err))),
    },
  });
  try {
    return await untilAborted(verdict, signal);
  } finally {
    socket.end();
  }
});

/** Operators write control bytes as escapes ("PING\r\n"); `\\` is a backslash. */
function unescapeControls(text: string): string {
  const controls: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\" };
  return text.replace(/\\([nrt\\])/g, (_, letter: string) => controls[letter]!);
}
