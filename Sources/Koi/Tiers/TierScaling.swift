import RealModule

/// The transform from raw tier features to the standardised space k-means
/// runs in; part of the `TierModel`, so a later run scores with the scaling
/// the model was fitted with.
///
/// ```
/// t_f(v) = log1p(max(v, 0))   if feature f is log-transformed, else v
/// z_f(v) = (t_f(v) − mean_f) / sd_f      (sd_f > 0)
/// z_f(v) = 0                              (sd_f = 0: a constant feature)
/// ```
///
/// `mean_f` and `sd_f` are the population mean and standard deviation of
/// `t_f` over the customers of the fitting run.
struct TierScaling: Sendable, Codable, Equatable {
  public let features: [TierFeature]
  let logTransformed: [Bool]
  public let means: [Double]
  let standardDeviations: [Double]

  public init(features: [TierFeature], logTransformed: [Bool], means: [Double], standardDeviations: [Double]) {
    self.features = features
    self.logTransformed = logTransformed
    self.means = means
    self.standardDeviations = standardDeviations
  }

  /// Fits the scaling to `table`.
  ///
  /// The transform runs in parallel over customers; the sums run in
  /// customer order, so the means and deviations do not depend on threads.
  ///
  /// - Complexity: O(customers · features).
  public init(fitting table: TierFeatureTable) {
    var means: [Double] = [], sds: [Double] = []
    for (f, feature) in table.features.enumerated() {
      let log = feature.isLogTransformed
      let t =
        log
        ? table.values[f].withUnsafeBufferPointer { v in
          Parallel.map(elements: v.count) { Self.transform(v[$0], log: true) }
        } : table.values[f]
      let n = Double(max(1, t.count))
      let mean = t.reduce(0, +) / n
      var ss = 0.0
      for v in t { ss += (v - mean) * (v - mean) }
      let sd = (ss / n).squareRoot()
      means.append(mean)
      // A spread below 1e-12 of the scale is rounding noise: treat as constant.
      sds.append(sd > 1e-12 * max(1, abs(mean)) ? sd : 0)
    }
    self.init(
      features: table.features, logTransformed: table.features.map(\.isLogTransformed),
      means: means, standardDeviations: sds)
  }

  /// Features with zero spread in the fitting data (kept, at 0).
  var constantFeatures: [TierFeature] {
    zip(features, standardDeviations).filter { $0.1 == 0 }.map(\.0)
  }

  static func transform(_ v: Double, log: Bool) -> Double {
    log ? Double.log(onePlus: max(v, 0)) : v
  }

  /// `z_f(v)`.
  func standardise(_ v: Double, feature f: Int) -> Double {
    let sd = standardDeviations[f]
    return sd > 0 ? (Self.transform(v, log: logTransformed[f]) - means[f]) / sd : 0
  }

  /// The inverse: a standardised coordinate back to raw units
  /// (`expm1` undoes `log1p`).
  func original(_ z: Double, feature f: Int) -> Double {
    let t = means[f] + z * standardDeviations[f]
    return logTransformed[f] ? Double.expMinusOne(t) : t
  }

  /// A standardised `FeatureMatrix` (customers × features) of `table`, whose
  /// features must be `features`: `Float(z_f(v))`, the coordinates k-means
  /// runs on.
  ///
  /// - Complexity: O(customers · features), parallel over customers.
  public func matrix(_ table: TierFeatureTable) -> FeatureMatrix {
    precondition(table.features == features, "feature table does not match the scaling")
    let n = table.customerCount
    let v = [Float](unsafeUninitializedCapacity: n * features.count) { out, initialized in
      for f in features.indices {
        // Feature f's values fill out[f·n ..< (f+1)·n]; nil only for no values.
        guard let o = out.baseAddress else { break }
        Self.elementwise(table.values[f], into: o + f * n) { Float(standardise($0, feature: f)) }
      }
      initialized = n * features.count
    }
    return FeatureMatrix(
      count: n, featureCount: max(1, features.count),
      featureMajor: features.isEmpty ? [Float](repeating: 0, count: n) : v)
  }

  /// Initialises `out[i]` to `transform(values[i])` for every `i`, in
  /// parallel over fixed chunks of values; each value alone, so the same
  /// results as one by one.
  ///
  /// - Complexity: O(values) calls of `transform`.
  private static func elementwise<T>(
    _ values: [Double], into out: UnsafeMutablePointer<T>, _ transform: (Double) -> T
  ) {
    let n = values.count
    values.withUnsafeBufferPointer { x in
      Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n)) { _, range in
        for i in range { (out + i).initialize(to: transform(x[i])) }
      }
    }
  }
}
