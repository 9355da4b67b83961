/**
 * Integers written with a comma between groups of three digits
 * ("1,234,567"), as `toLocaleString('en-US')` writes them.
 *
 * Written out rather than left to Intl because a process's first
 * toLocaleString loads ICU's number formatting: ~17 ms here, more than the
 * rest of printing an audit's one-line summary, paid by every CLI run that
 * prints a count.
 */
const GROUP_SEPARATOR = ',';
const GROUP_DIGITS = 3;

/** `n` with its digits grouped by threes; anything but a safe integer goes to Intl as before. */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = Math.abs(n).toString();
  const firstGroup = digits.length % GROUP_DIGITS || GROUP_DIGITS;
  let out = digits.slice(0, firstGroup);
  for (let i = firstGroup; i < digits.length; i += GROUP_DIGITS) {
    out += GROUP_SEPARATOR + digits.slice(i, i + GROUP_DIGITS);
  }
  // Object.is: Intl writes negative zero as "-0".
  return n < 0 || Object.is(n, -0) ? `-${out}` : out;
}
