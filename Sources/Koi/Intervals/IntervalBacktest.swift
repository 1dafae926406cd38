import RealModule

/// Out-of-time evaluation of the interval stage against a naive baseline.
public enum IntervalBacktest {
  /// Fits on the purchases before `cutoffDay`, predicts as of the cutoff,
  /// and compares with what happened from the cutoff to the end of the ledger
  /// (`endDay` = last ledger day + 1).
  ///
  /// Evaluated pairs: (customer, category) pairs with a purchase before the
  /// cutoff whose category gets a prediction (fitted or prior).
  ///
  /// - **Next-purchase MAE** (days), over evaluated pairs that bought again
  ///   in the category before `endDay`: |predicted − actual first purchase
  ///   day on or after the cutoff|. Model: `expectedNextDay` (conditional
  ///   median). Baseline: last purchase + the category's mean observed gap
  ///   before the cutoff, moved to the cutoff if that is earlier (the
  ///   baseline knows the customer has not come back yet).
  /// - **Brier score** `mean (p − y)²` and a **calibration table** (ten
  ///   equal-count bins of the prediction, ascending; mean predicted vs
  ///   observed rate) for each window h ∈ {30, 60, 90} that fits before
  ///   `endDay`; y = bought in the category in `[cutoff, cutoff + h)`.
  ///   Model: `probability30/60/90`. Baseline: the category's empirical rate
  ///   one window earlier, using only pre-cutoff data: among pairs with a
  ///   purchase before `cutoff − h`, the share that bought in
  ///   `[cutoff − h, cutoff)`.
  ///
  /// Customers with no purchase before the cutoff are left out (they have no
  /// history to predict from).
  ///
  /// - Complexity: that of `fit` and `score` on the calibration rows, plus
  ///   O(rows) for the outcomes.
  public static func run(
    ledger: Ledger, cutoffDay: Int32, options: IntervalOptions = IntervalOptions()
  ) -> IntervalBacktestReport {
    let (calibration, originalCustomer) = ledger.purchasesBefore(cutoffDay)
    let endDay = (ledger.day.max() ?? cutoffDay) + 1
    let h = PurchaseHistories(ledger: calibration, asOfDay: cutoffDay)
    // Exactly what `koi score --as-of cutoff` ships on these rows.
    let (model, cols) = IntervalStage.run(
      ledger: calibration, table: CustomerTable(ledger: calibration, asOfDay: cutoffDay), histories: h, options: options
    )

    // Outcome: first purchase day on or after the cutoff in the pair's category.
    var nextDay = [Int32](repeating: Int32.max, count: h.pairCount)
    for c in 0..<h.customerCount {
      let pairs = h.pairs(of: c)
      for i in ledger.rows(of: Int(originalCustomer[c]))
      where ledger.day[i] >= cutoffDay && isPurchase(ledger.amount[i]) {
        let k = ledger.category[i]
        for p in pairs where h.pairCategory[p] == k {
          if ledger.day[i] < nextDay[p] { nextDay[p] = ledger.day[i] }
        }
      }
    }

    // Baseline ingredients from pre-cutoff data only.
    let k = calibration.categories.count
    var gapSum = [Double](repeating: 0, count: k), gapN = gapSum
    for p in 0..<h.pairCount {
      let c = Int(h.pairCategory[p])
      for g in h.gapStart[p]..<h.gapStart[p + 1] { gapSum[c] += Double(h.gaps[g]); gapN[c] += 1 }
    }
    func baselineRate(window: Int) -> [Double] {
      let early = cutoffDay - Int32(window)
      var at = [Double](repeating: 0, count: k), hit = at
      for p in 0..<h.pairCount where h.firstDay[p] < early {
        let c = Int(h.pairCategory[p])
        at[c] += 1
        // Occasion days are firstDay + running sums of the gaps.
        var d = h.firstDay[p]
        var bought = false
        for g in h.gapStart[p]..<h.gapStart[p + 1] {
          d += h.gaps[g]
          if d >= early { bought = true; break }
        }
        if bought { hit[c] += 1 }
      }
      return (0..<k).map { at[$0] > 0 ? hit[$0] / at[$0] : 0 }
    }

    let evaluated = (0..<h.pairCount).filter { p in
      let s = cols.status[p]
      return s != .oneOff && s != .unknown && gapN[Int(h.pairCategory[p])] > 0
    }
    var modelError = 0.0, baseError = 0.0, returned = 0
    for p in evaluated where nextDay[p] < endDay {
      let c = Int(h.pairCategory[p])
      let actual = Double(nextDay[p])
      let base = max(Double(cutoffDay), Double(h.lastDay[p]) + (gapSum[c] / gapN[c]).rounded())
      modelError += abs(Double(cols.expectedNextDay[p]) - actual)
      baseError += abs(base - actual)
      returned += 1
    }
    var modelHorizons: [IntervalBacktestReport.Horizon] = []
    var baseHorizons: [IntervalBacktestReport.Horizon] = []
    for (hi, window) in IntervalColumns.horizons.enumerated() where cutoffDay + Int32(window) <= endDay {
      let probs = hi == 0 ? cols.probability30 : (hi == 1 ? cols.probability60 : cols.probability90)
      let rate = baselineRate(window: window)
      var pm: [Double] = [], pb: [Double] = [], y: [Double] = []
      for p in evaluated {
        pm.append(probs[p])
        pb.append(rate[Int(h.pairCategory[p])])
        y.append(nextDay[p] < cutoffDay + Int32(window) ? 1 : 0)
      }
      modelHorizons.append(.init(days: window, predicted: pm, observed: y))
      baseHorizons.append(.init(days: window, predicted: pb, observed: y))
    }
    return IntervalBacktestReport(
      cutoffDay: cutoffDay, endDay: endDay, evaluatedPairCount: evaluated.count, returnedPairCount: returned,
      model: .init(
        nextPurchaseMeanAbsoluteErrorDays: returned > 0 ? modelError / Double(returned) : nil, horizons: modelHorizons),
      baseline: .init(
        nextPurchaseMeanAbsoluteErrorDays: returned > 0 ? baseError / Double(returned) : nil, horizons: baseHorizons),
      intervalModel: model)
  }
}

/// The result of `IntervalBacktest.run`.
public struct IntervalBacktestReport: Codable, Sendable {
  public var cutoffDay: Int32
  public var endDay: Int32
  var evaluatedPairCount: Int
  var returnedPairCount: Int
  public var model: Metrics
  public var baseline: Metrics
  /// The model fitted on the calibration rows.
  var intervalModel: IntervalModel

  /// Only keys the snake-case strategies cannot derive from the property
  /// name, given in the camelCase those strategies map to the file's key.
  enum CodingKeys: String, CodingKey {
    case cutoffDay, endDay, model, baseline, intervalModel
    case evaluatedPairCount = "nEvaluatedPairs"
    case returnedPairCount = "nReturnedPairs"
  }

  public struct Metrics: Codable, Sendable {
    var nextPurchaseMeanAbsoluteErrorDays: Double?
    var horizons: [Horizon]
    /// Only keys the snake-case strategies cannot derive from the property
    /// name, given in the camelCase those strategies map to the file's key.
    enum CodingKeys: String, CodingKey {
      case horizons
      case nextPurchaseMeanAbsoluteErrorDays = "nextPurchaseMaeDays"
    }
  }

  struct Horizon: Codable, Sendable {
    public var days: Int
    public var pairCount: Int
    var brierScore: Double?
    /// Mean −[y log p + (1 − y) log(1 − p)], p clipped to [1e-6, 1 − 1e-6].
    var logLoss: Double?
    /// Area under the ROC curve: the chance that a pair that bought is
    /// ranked above one that did not (ties count half); nil without both.
    var auc: Double?
    var observedRate: Double?
    public var calibration: [CalibrationBin]

    /// Only keys the snake-case strategies cannot derive from the property
    /// name, given in the camelCase those strategies map to the file's key.
    enum CodingKeys: String, CodingKey {
      case days, brierScore, logLoss, auc, observedRate, calibration
      case pairCount = "nPairs"
    }

    /// Brier score and ten equal-count calibration bins (sorted by the
    /// prediction, ties by pair order).
    init(days: Int, predicted: [Double], observed: [Double]) {
      self.days = days
      let n = predicted.count
      pairCount = n
      guard n > 0 else { calibration = []; return }
      var brier = 0.0, loss = 0.0
      for i in 0..<n {
        brier += (predicted[i] - observed[i]) * (predicted[i] - observed[i])
        loss += RepurchasePropensity.logLoss(predicted[i], observed[i])
      }
      brierScore = brier / Double(n)
      logLoss = loss / Double(n)
      observedRate = observed.reduce(0, +) / Double(n)
      let order = (0..<n).sorted { predicted[$0] != predicted[$1] ? predicted[$0] < predicted[$1] : $0 < $1 }
      // AUC from average ranks (Mann–Whitney U), ties sharing their rank.
      var rankSum = 0.0, positives = 0.0
      var i = 0
      while i < n {
        var j = i
        while j + 1 < n && predicted[order[j + 1]] == predicted[order[i]] { j += 1 }
        let rank = Double(i + j) / 2 + 1
        for k in i...j where observed[order[k]] > 0.5 { rankSum += rank; positives += 1 }
        i = j + 1
      }
      let negatives = Double(n) - positives
      if positives > 0 && negatives > 0 {
        auc = (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
      }
      var bins: [CalibrationBin] = []
      for b in 0..<10 {
        let r = Parallel.chunk(b, of: 10, count: n)
        if r.isEmpty { continue }
        var sp = 0.0, so = 0.0
        for i in r { sp += predicted[order[i]]; so += observed[order[i]] }
        bins.append(
          CalibrationBin(
            decile: b + 1, count: r.count, meanPredicted: sp / Double(r.count), observedRate: so / Double(r.count)))
      }
      calibration = bins
    }
  }

  struct CalibrationBin: Codable, Sendable {
    var decile: Int
    public var count: Int
    var meanPredicted: Double
    var observedRate: Double
  }
}

extension Ledger {
  /// The rows before `day` of the customers with a purchase before it,
  /// customers renumbered densely in their original order; categories keep
  /// their indices. Returns the new ledger and, per new customer index, the
  /// original one.
  ///
  /// - Complexity: O(rows).
  func purchasesBefore(_ day: Int32) -> (Ledger, [Int32]) {
    var keep: [Int32] = []
    var ids: [String] = []
    var start = [0]
    var rows: [Int] = []
    for c in 0..<customerCount {
      var any = false
      let before = rows.count
      for i in self.rows(of: c) where self.day[i] < day {
        rows.append(i)
        if isPurchase(amount[i]) { any = true }
      }
      if any {
        keep.append(Int32(c))
        ids.append(customerIDs[c])
        start.append(rows.count)
      } else {
        rows.removeSubrange(before...)
      }
    }
    var newCustomer = [Int32](repeating: 0, count: rows.count)
    for n in 0..<keep.count {
      for i in start[n]..<start[n + 1] { newCustomer[i] = Int32(n) }
    }
    let l = Ledger(
      customerIDs: ids, categories: categories, channels: channels, stores: stores,
      customer: newCustomer, day: rows.map { self.day[$0] }, category: rows.map { category[$0] },
      amount: rows.map { amount[$0] }, listPrice: rows.map { listPrice[$0] }, promo: rows.map { promo[$0] },
      channel: rows.map { channel[$0] }, store: rows.map { store[$0] }, customerStart: start, columns: columns)
    return (l, keep)
  }
}
