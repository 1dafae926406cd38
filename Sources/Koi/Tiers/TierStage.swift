/// The price-sensitivity tier stage: fit k-means on standardised behavioural
/// features (`TierFeature`), name clusters by their axes, score customers.
///
/// ```
/// fit:   ledger, table ──► TierFeatureTable ──► TierScaling ──► KMeans ──► TierModel
/// score: ledger, table, model ──► features scaled by model.scaling ──► nearest centroid
/// ```
public struct TierStage: Sendable {
  public var options: TierOptions

  public init(_ options: TierOptions = TierOptions()) { self.options = options }

  /// Fits the tier model.
  ///
  /// Degenerate inputs never trap; they shrink the model and say so in
  /// `notes`: no customers ⇒ `k = 0`; one customer ⇒ one cluster at that
  /// customer; fewer customers than `k` ⇒ `k` = customers; fewer distinct
  /// feature vectors than `k` ⇒ duplicate centroids / empty clusters,
  /// reported; all features constant ⇒ every customer in cluster 0.
  ///
  /// Warm start: when `warmStart` has the same feature list and the same
  /// effective `k`, its centroids (mapped through its own scaling to raw
  /// units and re-standardised with this run's scaling) seed one Lloyd run,
  /// and cluster `j` keeps `warmStart.clusterTiers[j]`, so tier identities
  /// stay stable from run to run. Otherwise the fit starts cold and a note
  /// says why.
  ///
  /// - Throws: `TierError` for invalid options (k outside 2…256, restarts < 1, …).
  /// - Complexity: O(rows) for the features plus the `KMeans.fit` cost on
  ///   customers × features.
  public static func fit(
    ledger: Ledger, table: CustomerTable, options: TierOptions = TierOptions(), warmStart: TierModel? = nil
  ) throws -> TierModel {
    try fitWithFeatures(ledger: ledger, table: table, options: options, warmStart: warmStart).model
  }

  /// `fit(ledger:table:options:warmStart:)` and the features it fitted on.
  static func fitWithFeatures(
    ledger: Ledger, table: CustomerTable, options: TierOptions, warmStart: TierModel?
  ) throws -> (model: TierModel, features: TierFeatureTable) {
    _ = try kMeansOptions(options)
    let features = TierFeatureTable(ledger: ledger, table: table, requested: options.features)
    return (
      try fit(features: features, customerCount: table.count, options: options, warmStart: warmStart), features
    )
  }

  /// The k-means options of `options`, validated.
  ///
  /// - Throws: `TierError` for invalid options.
  static func kMeansOptions(_ options: TierOptions) throws -> KMeansOptions {
    let kmOptions = KMeansOptions(
      k: options.k, restarts: options.restarts, maxIterations: options.maxIterations,
      tolerance: options.tolerance, seed: options.seed, kernel: options.kernel)
    do { try kmOptions.validate() } catch let e as KMeansError {
      throw TierError(message: "tier options: \(e.message)", underlying: e)
    }
    return kmOptions
  }

  /// Fits the tier model on features already computed: the part of
  /// `fit(ledger:table:options:warmStart:)` after the features, for a fit
  /// whose features were assembled from parts of the population
  /// (`TierFeatureTable.init(customers:table:columns:categories:medians:requested:population:)`).
  /// `featureTable` must have been computed with `requested: options.features`
  /// and no given population; `customerCount` is the number of customers of
  /// the whole population (`CustomerTable.count`), which `featureTable`
  /// cannot say when no feature could be computed.
  ///
  /// - Throws: `TierError` for invalid options or a failed clustering.
  /// - Complexity: the `KMeans.fit` cost on customers × features.
  static func fit(
    features featureTable: TierFeatureTable, customerCount: Int, options: TierOptions = TierOptions(),
    warmStart: TierModel? = nil
  ) throws -> TierModel {
    var kmOptions = try kMeansOptions(options)
    let scaling = TierScaling(fitting: featureTable)
    let features = featureTable.features
    let n = featureTable.customerCount == 0 ? customerCount : featureTable.customerCount
    var notes: [String] = []
    for (f, c) in featureTable.imputed.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
      notes.append("\(f.rawValue): \(c) customers without a known value got the population median")
    }
    let constant = scaling.constantFeatures
    if !constant.isEmpty {
      notes.append("constant features kept at 0: \(constant.map(\.rawValue).joined(separator: ", "))")
    }

    func model(
      k: Int, centroids: [[Double]], sizes: [Int], inertia: Double, iterations: Int, converged: Bool,
      tiers: [PriceSensitivityTier]? = nil, warm: Bool = false
    ) -> TierModel {
      let axes = centroids.map { TierAxes(z: $0, features: features) }
      return TierModel(
        features: features, droppedFeatures: featureTable.dropped, constantFeatures: constant, scaling: scaling,
        k: k, restarts: options.restarts, seed: options.seed, iterations: iterations, converged: converged,
        inertia: inertia, centroids: centroids, clusterTiers: tiers ?? PriceSensitivityTier.assign(axes: axes),
        clusterAxes: axes, clusterSizes: sizes, warmStarted: warm, notes: notes,
        population: featureTable.population)
    }

    if n == 0 || features.isEmpty {
      notes.append(
        n == 0 ? "no customers: no clusters fitted" : "no tier feature could be computed: no clusters fitted")
      return model(k: 0, centroids: [], sizes: [], inertia: 0, iterations: 0, converged: true)
    }
    let matrix = scaling.matrix(featureTable)
    if n == 1 {
      notes.append("one customer: a single cluster at that customer")
      return model(k: 1, centroids: [matrix.point(0)], sizes: [1], inertia: 0, iterations: 0, converged: true)
    }
    if constant.count == features.count {
      notes.append("all customers have identical features: a single cluster")
      return model(
        k: 1, centroids: [[Double](repeating: 0, count: features.count)], sizes: [n], inertia: 0,
        iterations: 0, converged: true)
    }
    var k = options.k
    if n < k {
      notes.append("\(n) customers are fewer than k = \(k): fitted k = \(n)")
      k = n
    }
    kmOptions.k = k

    var initial: Matrix?
    var inheritedTiers: [PriceSensitivityTier]?
    if let w = warmStart {
      if w.features != features {
        notes.append(
          "warm start ignored (cold start): features differ, previous [\(w.features.map(\.rawValue).joined(separator: ", "))], now [\(features.map(\.rawValue).joined(separator: ", "))]"
        )
      } else if w.k != k || w.centroids.count != k {
        notes.append("warm start ignored (cold start): previous model has k = \(w.k), this fit k = \(k)")
      } else {
        var values: [Double] = []
        for j in 0..<k {
          for f in features.indices {
            let t = w.scaling.means[f] + w.centroids[j][f] * w.scaling.standardDeviations[f]
            let sd = scaling.standardDeviations[f]
            values.append(sd > 0 ? (t - scaling.means[f]) / sd : 0)
          }
        }
        initial = Matrix(rows: k, columns: features.count, values: values)
        inheritedTiers = w.clusterTiers
      }
    }

    let result: KMeansResult
    do {
      result = try KMeans.fit(matrix, options: kmOptions, initialCentroids: initial)
    } catch let e as KMeansError {
      throw TierError(message: "tier clustering failed: \(e.message)", underlying: e)
    }
    let centroids = (0..<k).map { j in Array(result.centroids.values[(j * features.count)..<((j + 1) * features.count)])
    }
    let filled = result.clusterSizes.filter { $0 > 0 }.count
    if filled < k {
      notes.append("only \(filled) of \(k) clusters have customers (fewer distinct feature vectors than k)")
    }
    if !result.converged {
      notes.append("k-means stopped at max_iterations = \(options.maxIterations) before converging")
    }
    if let inherited = inheritedTiers {
      let fresh = PriceSensitivityTier.assign(axes: centroids.map { TierAxes(z: $0, features: features) })
      if fresh != inherited {
        notes.append("warm start kept the previous cluster → tier mapping; naming from scratch would now differ")
      }
    }
    return model(
      k: k, centroids: centroids, sizes: result.clusterSizes, inertia: result.inertia,
      iterations: result.iterations, converged: result.converged, tiers: inheritedTiers, warm: inheritedTiers != nil)
  }

  /// Scores every customer of `table` against `model`: nearest centroid
  /// (exact `Double` distance, ties to the lower cluster), its tier, the
  /// distance and the confidence `1 − d₁/d₂`.
  ///
  /// Features the scoring data cannot supply are set to the fitting mean
  /// (standardised 0) and noted. Category median prices for `premium_share`
  /// and the imputation medians come from `population` (by default the
  /// model's, the fitting population's); without one, from the scoring
  /// ledger.
  ///
  /// - Complexity: O(rows + customers · k · features), parallel over customers.
  public static func score(ledger: Ledger, table: CustomerTable, model: TierModel) -> TierColumns {
    score(ledger: ledger, table: table, model: model, population: model.population)
  }

  /// `score` with the population figures given (nil: from the scoring
  /// ledger), and with the features when they are at hand: those the fit
  /// that made `model` computed from the same ledger and table (`TierFit`),
  /// which have the values computing them again from `model.population`
  /// gives.
  static func score(
    ledger: Ledger, table: CustomerTable, model: TierModel, population: TierPopulation?,
    features: TierFeatureTable? = nil
  ) -> TierColumns {
    let featureTable =
      features ?? TierFeatureTable(ledger: ledger, table: table, requested: model.features, population: population)
    let n = table.count
    let d = model.features.count
    let k = model.centroids.count
    var notes: [String] = []
    // By model feature: its values, nil where this data cannot supply it.
    let columns = model.features.map { featureTable.column($0) }
    for (feature, col) in zip(model.features, columns) where col == nil {
      notes.append("\(feature.rawValue) not available in this data: scored at the fitting mean")
    }
    var cluster = [Int32](), distance = [Double](), confidence = [Double]()
    if k > 0 {
      let c = model.centroids.flatMap { $0 }
      let scaling = model.scaling
      // Every customer's place is written exactly once by the loop below
      // (one chunk each), so the columns need no fill first.
      cluster = [Int32](unsafeUninitializedCapacity: n) { cl, clCount in
        distance = [Double](unsafeUninitializedCapacity: n) { dist, distCount in
          confidence = [Double](unsafeUninitializedCapacity: n) { conf, confCount in
            c.withUnsafeBufferPointer { cp in
              Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n)) { _, range in
                // The standardised features of a block of customers, row-major:
                // z[t * d + f] for customer block.lowerBound + t.
                let block = 1024
                let z = UnsafeMutableBufferPointer<Double>.allocate(capacity: block * max(1, d))
                defer { z.deallocate() }
                for b in stride(from: range.lowerBound, to: range.upperBound, by: block) {
                  let customers = b..<min(b + block, range.upperBound)
                  for f in 0..<d {
                    guard let col = columns[f] else {
                      for i in customers { z[(i - b) * d + f] = 0 }
                      continue
                    }
                    // Round through Float exactly as the fit did, so labels agree with it.
                    for i in customers { z[(i - b) * d + f] = Double(Float(scaling.standardise(col[i], feature: f))) }
                  }
                  for i in customers {
                    let zi = (i - b) * d
                    var d1 = Double.infinity, d2 = Double.infinity, best = 0
                    for j in 0..<k {
                      var s = 0.0
                      for f in 0..<d { let df = z[zi + f] - cp[j * d + f]; s += df * df }
                      if s < d1 { d2 = d1; d1 = s; best = j } else if s < d2 { d2 = s }
                    }
                    let r1 = d1.squareRoot(), r2 = d2.squareRoot()
                    cl[i] = Int32(best)
                    dist[i] = r1
                    conf[i] = r2.isInfinite ? 1 : (r2 > 0 ? max(0, min(1, 1 - r1 / r2)) : 0)
                  }
                }
              }
            }
            confCount = n
          }
          distCount = n
        }
        clCount = n
      }
    } else {
      cluster = [Int32](repeating: -1, count: n)
      distance = [Double](repeating: 0, count: n)
      confidence = distance
      notes.append("the model has no clusters: no tiers assigned")
    }
    let tier: [PriceSensitivityTier?] = cluster.map { $0 >= 0 ? model.clusterTiers[Int($0)] : nil }
    return TierColumns(cluster: cluster, tier: tier, distance: distance, confidence: confidence, notes: notes)
  }

  /// One profile per tier, in tier order (empty tiers included, size 0).
  ///
  /// - Complexity: O(customers + k · features).
  public static func profiles(table: CustomerTable, model: TierModel, columns: TierColumns) -> [TierProfile] {
    profiles(ProfilePartial(table: table, columns: columns), model: model)
  }

  /// The counts and exact revenue sums behind the profiles; partials of
  /// customer-disjoint shards merge into the whole run's.
  struct ProfilePartial: Sendable, Codable, Equatable {
    var customers = 0
    var size = [Int](repeating: 0, count: 5)
    var revenue = [ExactSum](repeating: ExactSum(), count: 5)
    var total = ExactSum()

    init(table: CustomerTable, columns: TierColumns) {
      customers = columns.count
      for i in 0..<columns.count {
        let r = table.netAmount[i].isFinite ? max(0, table.netAmount[i]) : 0
        total.add(r)
        if let t = columns.tier[i] { size[t.rawValue] += 1; revenue[t.rawValue].add(r) }
      }
    }

    mutating func merge(_ o: ProfilePartial) {
      customers += o.customers
      for t in 0..<min(size.count, o.size.count) {
        size[t] += o.size[t]
        revenue[t].merge(o.revenue[t])
      }
      total.merge(o.total)
    }
  }

  /// The profiles of the customers whose partial is `p`.
  static func profiles(_ p: ProfilePartial, model: TierModel) -> [TierProfile] {
    let n = p.customers
    let size = p.size
    let revenue = p.revenue.map(\.value)
    let total = p.total.value
    let d = model.features.count
    return PriceSensitivityTier.allCases.map { t in
      var z = [Double](repeating: 0, count: d)
      var weight = 0.0
      for j in 0..<model.k where model.clusterTiers[j] == t {
        let w = Double(max(1, model.clusterSizes[j]))
        for f in 0..<d { z[f] += w * model.centroids[j][f] }
        weight += w
      }
      var centroid: [String: Double] = [:]
      var axes: TierAxes?
      if weight > 0 {
        for f in 0..<d { z[f] /= weight }
        for (f, feature) in model.features.enumerated() {
          centroid[feature.rawValue] = model.scaling.original(z[f], feature: f)
        }
        axes = TierAxes(z: z, features: model.features)
      }
      return TierProfile(
        tier: t, id: t.id, name: t.name, nameZh: t.nameZH, size: size[t.rawValue],
        share: n > 0 ? rounded(Double(size[t.rawValue]) / Double(n), 6) : 0,
        revenueShare: total > 0 ? rounded(revenue[t.rawValue] / total, 6) : 0,
        centroid: centroid, axes: axes)
    }
  }
}
