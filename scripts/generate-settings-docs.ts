// Part of `npm run manifests`: writes the settings table of docs/user-guide/configuration.md.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withSettingsDocTable } from "../src/config/settings-doc.js";

const path = join(dirname(fileURLToPath(import.meta.url)), "..", "docs/user-guide/configuration.md");
writeFileSync(path, withSettingsDocTable(readFileSync(path, "utf8")));
console.log("wrote docs/user-guide/configuration.md (settings table)");
