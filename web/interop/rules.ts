// The page's name check (src/rules.ts) run under Node for the parity test
// (rules_parity_test.go): reads a JSON array of names on stdin and prints a
// JSON array of verdicts, null for a valid name, else the page's message.
import { readFileSync } from "node:fs";
import { checkName } from "../src/rules.js";

const names: string[] = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(names.map((name) => checkName(name))));
