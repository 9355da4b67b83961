// Child process for tests/ledger-concurrency.test.ts and tests/ledger-signing.test.ts:
// appends to a ledger through the COMPILED library (dist/), the way a second
// blux-reg process would.
//
//   node tests/helpers/ledger-appender.mjs <ledger> <count | forever> [actor | seed:<64 hex>]
//
// With `seed:<hex>` every entry is signed by the Ed25519 key with that seed and
// its actor is the key's fingerprint (what a use-case holding an unlocked key does).
//
// Prints "ready" once the library is loaded (the lock addon too, which
// store/file-lock.ts loads at the first lock: a kill timed from "ready" should
// land in the appending, not in that load), then one entry_hash per line, each
// written only AFTER appendLedgerEntry returned: a printed hash is a promise
// that the entry is on disk. stdout to a pipe is synchronous on POSIX, so a
// line printed before a SIGKILL is never lost on the way to the parent.
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { appendLedgerEntry } from '../../dist/store/ledger-file.js';
import { fingerprintOf, privateKeyDer, rawPublicKeyFromDer } from '../../dist/formats/keys.js';

const [ledger, countArg, who = `appender-${process.pid}`] = process.argv.slice(2);
if (ledger === undefined || countArg === undefined) {
  process.stderr.write('usage: ledger-appender.mjs <ledger> <count | forever> [actor | seed:<64 hex>]\n');
  process.exit(2);
}
const count = countArg === 'forever' ? Infinity : Number(countArg);

/** The actor and append options: a free-text actor, or a key that signs. */
function identity(spec) {
  if (!spec.startsWith('seed:')) return { actor: spec, options: {} };
  const privateKey = crypto.createPrivateKey({ key: Buffer.from(privateKeyDer(Buffer.from(spec.slice(5), 'hex'))), format: 'der', type: 'pkcs8' });
  const raw = rawPublicKeyFromDer(crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  return { actor: fingerprintOf(raw), options: { sign: (bytes) => new Uint8Array(crypto.sign(null, bytes, privateKey)) } };
}
const { actor, options } = identity(who);

createRequire(import.meta.url)('fs-native-extensions');
process.stdout.write('ready\n');
for (let i = 0; i < count; i++) {
  const entry = await appendLedgerEntry(ledger, {
    action: 'event',
    actor,
    payload_summary: `pid ${process.pid} entry ${i}`,
  }, options);
  process.stdout.write(`${entry.entry_hash}\n`);
}
