import CBLAS
import CLAPACKE

#if canImport(Glibc)
  import Glibc
#endif

/// Errors from the LAPACK wrappers: the matrix was singular or not positive
/// definite. Callers turn these into model diagnostics.
struct LinearAlgebraError: Error, Sendable, CustomStringConvertible {
  let routine: String
  let info: Int32
  public var description: String { "\(routine) failed with info = \(info)" }
}

@inline(__always)
private func blasInt(_ n: Int) -> Int32 {
  guard let v = Int32(exactly: n) else { preconditionFailure("dimension \(n) exceeds BLAS integer range") }
  return v
}

enum LinearAlgebra {
  /// Sets OpenBLAS to work on the calling thread only. Read (`_ =
  /// LinearAlgebra.singleThreaded`) before every BLAS or LAPACK call: the
  /// first read sets it, once, before any call, and nothing changes it again.
  ///
  /// Koi's BLAS work is small (Newton steps and covariances of a few dozen
  /// parameters; k-means tiles inside Koi's own parallel loop), so OpenBLAS's
  /// threads never sped it up, and they cost twice:
  /// - each call that woke OpenBLAS's worker thread left it spinning in
  ///   `sched_yield` for its timeout: 0.57 CPU-s of a 10M-row run (2.7% of
  ///   its samples, 14% while the interval regressions ran beside it);
  /// - a threaded LAPACK call's result depended on the thread count: the
  ///   interval coefficients' standard errors in model.json changed in their
  ///   last digits with `OPENBLAS_NUM_THREADS`, so with `--threads` and the
  ///   machine's core count.
  ///
  /// The worker threads OpenBLAS starts when it loads are then ended: the
  /// first spins in `sched_yield` for its timeout (2^28 cycles, about 0.1
  /// s) right after the process starts: 55 ms of CPU, 9% of an RFM-only
  /// run of 1M rows. With one thread set first, no call starts them again
  /// (OpenBLAS restarts its pool only for work it would split, and when
  /// its thread count is set again, which nothing here does). The call
  /// that ends them, `blas_thread_shutdown_`, is OpenBLAS's own and not in
  /// a build without threads, so it is looked up, not linked.
  static let singleThreaded: Void = {
    openblas_set_num_threads(1)
    #if canImport(Glibc)
      if let shutdown = dlsym(nil, "blas_thread_shutdown_") {
        _ = unsafeBitCast(shutdown, to: (@convention(c) () -> Int32).self)()
      }
    #endif
  }()

  /// `C = A · B` through `cblas_dgemm`.
  ///
  /// - Complexity: O(m · n · k).
  static func multiply(_ a: Matrix, _ b: Matrix) -> Matrix {
    _ = singleThreaded
    precondition(a.columns == b.rows, "inner dimensions must agree")
    var c = Matrix(rows: a.rows, columns: b.columns)
    if a.rows == 0 || b.columns == 0 { return c }
    if a.columns == 0 { return c }
    a.values.withUnsafeBufferPointer { pa in
      b.values.withUnsafeBufferPointer { pb in
        c.values.withUnsafeMutableBufferPointer { pc in
          cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans,
            blasInt(a.rows), blasInt(b.columns), blasInt(a.columns),
            1.0, pa.baseAddress, blasInt(a.columns),
            pb.baseAddress, blasInt(b.columns),
            0.0, pc.baseAddress, blasInt(b.columns))
        }
      }
    }
    return c
  }

  /// Solves `A · x = b` for square `A` by LU with partial pivoting
  /// (`LAPACKE_dgesv`).
  ///
  /// - Throws: `LinearAlgebraError` when `A` is exactly singular.
  /// - Complexity: O(n³).
  static func solve(_ a: Matrix, _ b: [Double]) throws -> [Double] {
    _ = singleThreaded
    precondition(a.rows == a.columns, "solve needs a square matrix")
    precondition(b.count == a.rows, "right-hand side must have one entry per row")
    let n = a.rows
    if n == 0 { return [] }
    var lu = a.values
    var x = b
    var pivots = [Int32](repeating: 0, count: n)
    let info = LAPACKE_dgesv(
      LAPACK_ROW_MAJOR, blasInt(n), 1, &lu, blasInt(n), &pivots, &x, 1)
    guard info == 0 else { throw LinearAlgebraError(routine: "dgesv", info: info) }
    return x
  }

  /// The inverse of a symmetric positive-definite matrix, by Cholesky
  /// (`LAPACKE_dpotrf` then `LAPACKE_dpotri`). Used for standard errors from
  /// an observed-information (negative Hessian) matrix.
  ///
  /// - Throws: `LinearAlgebraError` when `A` is not positive definite.
  /// - Complexity: O(n³).
  static func inverseSymmetricPositiveDefinite(_ a: Matrix) throws -> Matrix {
    _ = singleThreaded
    precondition(a.rows == a.columns, "inverse needs a square matrix")
    let n = a.rows
    if n == 0 { return a }
    var m = a.values
    var info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), blasInt(n), &m, blasInt(n))
    guard info == 0 else { throw LinearAlgebraError(routine: "dpotrf", info: info) }
    info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), blasInt(n), &m, blasInt(n))
    guard info == 0 else { throw LinearAlgebraError(routine: "dpotri", info: info) }
    var result = Matrix(rows: n, columns: n, values: m)
    // dpotri fills the lower triangle only; mirror it.
    for i in 0..<n { for j in (i + 1)..<n { result[i, j] = result[j, i] } }
    return result
  }

  /// Solves `A · x = b` for symmetric positive-definite `A` by Cholesky
  /// (`LAPACKE_dposv`): the Newton step of a concave log-likelihood.
  ///
  /// - Throws: `LinearAlgebraError` when `A` is not positive definite.
  static func solveSymmetricPositiveDefinite(_ a: Matrix, _ b: [Double]) throws -> [Double] {
    _ = singleThreaded
    precondition(a.rows == a.columns && b.count == a.rows, "shape mismatch")
    let n = a.rows
    if n == 0 { return [] }
    var m = a.values
    var x = b
    let info = LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), blasInt(n), 1, &m, blasInt(n), &x, 1)
    guard info == 0 else { throw LinearAlgebraError(routine: "dposv", info: info) }
    return x
  }

  /// Least-squares solution of the over-determined `A · x ≈ b` (`LAPACKE_dgels`,
  /// QR). `A` must have full column rank.
  static func leastSquares(_ a: Matrix, _ b: [Double]) throws -> [Double] {
    _ = singleThreaded
    precondition(b.count == a.rows && a.rows >= a.columns, "least squares needs rows ≥ columns")
    if a.columns == 0 { return [] }
    var m = a.values
    var x = b
    let info = LAPACKE_dgels(
      LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), blasInt(a.rows), blasInt(a.columns), 1,
      &m, blasInt(a.columns), &x, 1)
    guard info == 0 else { throw LinearAlgebraError(routine: "dgels", info: info) }
    return Array(x.prefix(a.columns))
  }
}
