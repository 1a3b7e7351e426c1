// tcp probe: the connection completes; optionally `send` is written and `expect` must show up in what
// comes back (within the first 64 KiB).

import { converse } from "./conversation.ts";
import { CappedText, defineProbe, down, firstLine, up } from "./result.ts";

const REPLY_LIMIT_BYTES = 64 * 1024;

export const tcpProbe = defineProbe(["tcp"], (settings, target, signal) => {
  const expect = settings.expect === undefined ? undefined : unescapeControls(settings.expect);
  const reply = new CappedText(REPLY_LIMIT_BYTES);
  return converse(
    target,
    {
      request: settings.send === undefined ? undefined : new TextEncoder().encode(unescapeControls(settings.send)),
      opened: () => (expect === undefined ? up("connected") : undefined),
      received(chunk) {
        reply.add(chunk);
        if (reply.text.includes(expect!)) return up(`received "${settings.expect}"`);
        return reply.full ? down(`"${settings.expect}" not in the first ${REPLY_LIMIT_BYTES} bytes`) : undefined;
      },
      closed: () => down(`closed before "${settings.expect}" arrived${reply.text ? `; got "${firstLine(reply.text)}"` : ""}`),
    },
    signal,
  );
});

/** Operators write control bytes as escapes ("PING\r\n"); `\\` is a backslash. */
function unescapeControls(text: string): string {
  const controls: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\" };
  return text.replace(/\\([nrt\\])/g, (_, letter: string) => controls[letter]!);
}
