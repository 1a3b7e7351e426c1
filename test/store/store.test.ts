// The store spec under Bun, with bun:sqlite.
import { describe, test } from "bun:test";
import { storeSpec } from "./store-spec.ts";

storeSpec({ describe, test });
