// The lb servers' repository under Bun, with bun:sqlite.
import { describe, test } from "bun:test";
import { lbServersSpec } from "./lb-servers-spec.ts";

lbServersSpec({ describe, test });
