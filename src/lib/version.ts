// The version and the commit this build came from (the commit is baked in by scripts/build.ts).
import pkg from "../../package.json" with { type: "json" };

declare const VIGIL_COMMIT: string | undefined;

export const versionInfo = {
  version: pkg.version,
  commit: typeof VIGIL_COMMIT === "string" ? VIGIL_COMMIT : "source",
};
