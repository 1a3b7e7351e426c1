// The demo's two small HTTP backends on loopback, so `vigil demo` shows a service with real servers.

export interface DemoBackend {
  address: string;
  port: number;
  stop(): void;
}

export function startDemoBackends(addresses: readonly string[]): DemoBackend[] {
  return addresses.map((address, i) => {
    const server = Bun.serve({
      hostname: address,
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/health") return new Response("ok\n");
        return new Response(`hello from demo backend ${i + 1} (${address})\n`);
      },
    });
    return { address, port: server.port!, stop: () => server.stop(true) };
  });
}
