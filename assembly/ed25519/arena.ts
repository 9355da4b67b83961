/**
 * Memory for one batch: a bump allocator over linear memory from the end of
 * the static data. Everything a batch needs (its input block, decoded points,
 * scalars, buckets) is allocated here and dropped at once by arena_reset when
 * the next batch starts. Linear memory grows as needed and never shrinks.
 */

const PAGE_BYTES: usize = 65536;
const ALIGN: usize = 16;

let top: usize = 0;

function alignUp(n: usize): usize {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

export function arena_reset(): void {
  top = alignUp(__heap_base);
}

/** bytes of fresh memory (contents undefined), 16-byte aligned. */
export function arena_alloc(bytes: usize): usize {
  if (top == 0) arena_reset();
  const start = top;
  const end = alignUp(start + bytes);
  const have = <usize>memory.size() * PAGE_BYTES;
  if (end > have) {
    const pages = <i32>((end - have + PAGE_BYTES - 1) / PAGE_BYTES);
    if (memory.grow(pages) < 0) unreachable(); // out of memory: the call traps, JS sees an exception
  }
  top = end;
  return start;
}

/** The current top, to give back with arena_release what is allocated after it. */
export function arena_mark(): usize {
  if (top == 0) arena_reset();
  return top;
}

export function arena_release(mark: usize): void {
  top = mark;
}
