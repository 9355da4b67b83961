/** Data sizes of the end-to-end scenarios per `--size` (the primitives' suites do not scale). */
import type { BenchSize } from './types.js';

const MIB = 1024 * 1024;

export interface ScenarioSizes {
  /** Files in the verify-batch tree, and their total size. */
  readonly treeFiles: number;
  readonly treeBytes: number;
  /** Entries in the audited ledger. */
  readonly ledgerEntries: number;
}

export const SCENARIO_SIZES: Readonly<Record<BenchSize, ScenarioSizes>> = {
  tiny: { treeFiles: 6, treeBytes: 1 * MIB, ledgerEntries: 300 },
  small: { treeFiles: 48, treeBytes: 64 * MIB, ledgerEntries: 10_000 },
  medium: { treeFiles: 160, treeBytes: 512 * MIB, ledgerEntries: 100_000 },
  large: { treeFiles: 400, treeBytes: 2048 * MIB, ledgerEntries: 1_000_000 },
};
