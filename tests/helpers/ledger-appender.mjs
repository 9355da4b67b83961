// Child process for tests/ledger-concurrency.test.ts: appends to a ledger through
// the COMPILED library (dist/), the way a second blux-reg process would.
//
//   node tests/helpers/ledger-appender.mjs <ledger> <count | forever> [actor]
//
// Prints "ready" once the library is loaded, then one entry_hash per line, each
// written only AFTER appendLedgerEntry returned: a printed hash is a promise
// that the entry is on disk. stdout to a pipe is synchronous on POSIX, so a
// line printed before a SIGKILL is never lost on the way to the parent.
import { appendLedgerEntry } from '../../dist/store/ledger-file.js';

const [ledger, countArg, actor = `appender-${process.pid}`] = process.argv.slice(2);
if (ledger === undefined || countArg === undefined) {
  process.stderr.write('usage: ledger-appender.mjs <ledger> <count | forever> [actor]\n');
  process.exit(2);
}
const count = countArg === 'forever' ? Infinity : Number(countArg);

process.stdout.write('ready\n');
for (let i = 0; i < count; i++) {
  const entry = await appendLedgerEntry(ledger, {
    action: 'event',
    actor,
    payload_summary: `pid ${process.pid} entry ${i}`,
  });
  process.stdout.write(`${entry.entry_hash}\n`);
}
