// The store spec under Node, with better-sqlite3. Not named *.test.ts so `bun test` skips it;
// `npm run test:node` bundles it to .build/node-test/store-test.js, a name `node --test <dir>` runs.
import { describe, test } from "node:test";
import { lbServersSpec } from "../lb-servers-spec.ts";
import { storeSpec } from "../store-spec.ts";

storeSpec({ describe, test });
lbServersSpec({ describe, test });
