// A tiny HTTP backend for the benchmarks, run as its own process so a benchmark can kill it for real:
//
//   bun scripts/bench/http-backend.ts ADDRESS PORT [COUNT]
//
// Listens on ADDRESS:PORT (or on COUNT consecutive ports from PORT), answers GET/HEAD /health with
// 200 "ok" and anything else with 404. A plain TCP connect is accepted too, so the same ports serve
// tcp probes. Prints "listening ADDRESS PORT COUNT" on stdout once every port accepts connections;
// exits 1 with a message on stderr when one of them cannot be bound.

const [address, portText, countText = "1"] = process.argv.slice(2);
const firstPort = Number(portText);
const count = Number(countText);

if (!address || !Number.isInteger(firstPort) || firstPort < 1 || !Number.isInteger(count) || count < 1 || firstPort + count - 1 > 65535) {
  console.error("usage: http-backend.ts ADDRESS PORT [COUNT]");
  process.exit(2);
}

function answer(request: Request): Response {
  const path = new URL(request.url).pathname;
  return path === "/health" ? new Response("ok\n") : new Response("not found\n", { status: 404 });
}

const servers: ReturnType<typeof Bun.serve>[] = [];
for (let port = firstPort; port < firstPort + count; port++) {
  try {
    servers.push(Bun.serve({ hostname: address, port, fetch: answer, idleTimeout: 5 }));
  } catch (err) {
    console.error(`http-backend: cannot listen on ${address}:${port}: ${(err as Error).message}`);
    process.exit(1);
  }
}

console.log(`listening ${address} ${firstPort} ${count}`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    for (const server of servers) server.stop(true);
    process.exit(0);
  });
}
