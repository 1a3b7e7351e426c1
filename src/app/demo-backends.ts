// The demo's two small HTTP backends on loopback, so `vigil demo` shows a service with real servers.

export interface DemoBackend {
  address: string;
  port: number;
  stop(): void;
}

/** Each backend answers /health, and `POST /fail` / `POST /recover` flip it, to watch failover. */
export function startDemoBackends(addresses: readonly string[]): DemoBackend[] {
  return addresses.map((address, i) => {
    let failing = false;
    const server = Bun.serve({
      hostname: address,
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (request.method === "POST" && (path === "/fail" || path === "/recover")) {
          failing = path === "/fail";
          return new Response(failing ? "now failing /health\n" : "healthy again\n");
        }
        if (path === "/health") return failing ? new Response("failing\n", { status: 503 }) : new Response("ok\n");
        return new Response(`hello from demo backend ${i + 1} (${address})\n`);
      },
    });
    return { address, port: server.port!, stop: () => server.stop(true) };
  });
}
