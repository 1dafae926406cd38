#if canImport(Glibc)
  import CMalloc
#endif

/// Keeps freed memory in the process for reuse instead of returning it to
/// the kernel: glibc hands blocks of 32 MiB or more (dynamically, after the
/// first) to `mmap` and unmaps them when freed, so a run whose stages
/// allocate and free columns of millions of rows had every fresh page
/// zeroed by the kernel again. At 10M rows that was 885,166 minor page
/// faults (3.4 GiB of zeroed pages for a 1.3 GiB peak) and about a
/// quarter of ingest's CPU in `clear_page`; with both thresholds raised,
/// 324,726 faults and the same peak (benchmarks/README.md, issue 18). The
/// cost: freed blocks stay resident, so a large run can peak higher (100M
/// rows, RFM only, before the ingest stopped keeping a second copy of its
/// columns: 9.85 GiB against 8.6 GiB). Only the command-line tool does
/// this: a program using the library keeps its own policy.
enum Allocator {
  static func keepFreedMemory() {
    #if canImport(Glibc)
      _ = mallopt(M_MMAP_THRESHOLD, Int32.max)
      _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
    #endif
  }
}
