/// A dense matrix of `n` points × `d` features stored feature-major in
/// `Float32`: feature `f` of point `i` is `values[f * count + i]`.
///
/// Feature-major storage keeps one feature of consecutive points contiguous,
/// which is what the fused k-means kernel streams and what `cblas_sgemm` reads
/// as a column-major `n × d` matrix with leading dimension `n`.
public struct FeatureMatrix: Sendable, Equatable {
  /// Number of points `n`.
  public let count: Int
  /// Number of features `d`.
  public let featureCount: Int
  /// Feature-major values, `count * featureCount` of them.
  public let values: [Float]

  /// Wraps feature-major values (`values[f * count + i]`).
  public init(count: Int, featureCount: Int, featureMajor values: [Float]) {
    precondition(count >= 0 && featureCount >= 1, "a feature matrix needs at least one feature")
    precondition(values.count == count * featureCount, "feature matrix needs count × featureCount values")
    self.count = count
    self.featureCount = featureCount
    self.values = values
  }

  /// Builds a matrix from point-major rows (`rows[i][f]`), rounding to `Float`.
  ///
  /// - Complexity: O(n · d).
  public init(rows: [[Double]]) {
    let n = rows.count
    let d = rows.first?.count ?? 1
    var v = [Float](repeating: 0, count: n * d)
    for i in 0..<n {
      precondition(rows[i].count == d, "every row needs the same number of features")
      for f in 0..<d { v[f * n + i] = Float(rows[i][f]) }
    }
    self.init(count: n, featureCount: d, featureMajor: v)
  }

  /// Feature `f` of point `i`.
  @inlinable
  public subscript(point i: Int, feature f: Int) -> Float { values[f * count + i] }

  /// Point `i` as `Double`s.
  public func point(_ i: Int) -> [Double] {
    (0..<featureCount).map { Double(values[$0 * count + i]) }
  }
}
