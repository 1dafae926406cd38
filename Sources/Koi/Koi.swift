/// Koi's engine: from a transaction history to per-customer RFM scores,
/// price-sensitivity tiers, repurchase intervals and lifetime value.
public enum Koi {
  /// The engine version, written into run.json and model.json.
  public static let version = "0.1.0"
}

extension Koi {
  /// Uses at most `n` threads (`--threads`) in Koi's own parallel loops,
  /// so several Koi processes can share an executor's cores (OpenBLAS always
  /// runs on the calling thread: `LinearAlgebra.singleThreaded`). Results
  /// do not depend on it. Call before any work.
  public static func limitThreads(_ n: Int) {
    precondition(n >= 1, "at least one thread")
    Parallel.threadLimit = n
  }

  /// Sets OpenBLAS to the calling thread now (`LinearAlgebra.singleThreaded`)
  /// rather than at the first BLAS call, ending the worker thread that
  /// spins from the library's load: for a program's first lines.
  public static func settleLinearAlgebra() {
    _ = LinearAlgebra.singleThreaded
  }
}
