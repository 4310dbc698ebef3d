// Validates an AsyncAPI document with @asyncapi/parser (the parser the
// AsyncAPI tools use): any diagnostic of severity error or warning fails.
import { readFileSync } from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const file = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'));
let bad = 0;
for (const d of diagnostics) {
  const sev = d.severity === DiagnosticSeverity.Error ? 'error' : d.severity === DiagnosticSeverity.Warning ? 'warning' : 'info';
  console.log(`${file}: ${sev} ${d.code} at /${d.path.join('/')}: ${d.message}`);
  if (d.severity <= DiagnosticSeverity.Warning) bad++;
}
if (!document || bad > 0) {
  console.error(`${file}: ${bad} problem(s)`);
  process.exit(1);
}
const messages = document.messages().all().map((m) => m.name()).sort();
console.log(`${file}: valid AsyncAPI ${document.version()}, ${messages.length} messages: ${messages.join(', ')}`);
