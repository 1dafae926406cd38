import RealModule

/// Options of the lifetime-value stage. Times are in days; the stage converts
/// them to the summary's unit with `LifetimeSummary.daysPerUnit`.
public struct LifetimeOptions: Sendable, Codable, Equatable {
  /// Prediction horizon after the as-of day (`--horizon-days`).
  public var horizonDays: Double
  /// Annual discount rate as a fraction, e.g. 0.10 (`--discount-rate`).
  public var annualDiscountRate: Double
  /// Margin as a fraction of spend, 0…1 (`--margin`).
  public var margin: Double
  /// Largest Erlang order tried by the regular-timing model; 0 disables it.
  public var maximumErlangK: Int
  /// Length of the CLV discounting steps.
  var discountStepDays: Double
  /// Newton iteration limit per start.
  var maximumIterations: Int

  public init(
    horizonDays: Double = 365, annualDiscountRate: Double = 0.10, margin: Double = 1,
    maximumErlangK: Int = 4, discountStepDays: Double = 30, maximumIterations: Int = 200
  ) {
    self.horizonDays = horizonDays
    self.annualDiscountRate = annualDiscountRate
    self.margin = margin
    self.maximumErlangK = maximumErlangK
    self.discountStepDays = discountStepDays
    self.maximumIterations = maximumIterations
  }

  /// Sentences a user understands, one per invalid option, each the
  /// option's name and its `Settings` sentence; empty when valid. The front
  /// ends check the same settings; the stage assumes valid options
  /// (precondition).
  public var problems: [String] {
    var p = [String]()
    for (setting, value) in [
      (Settings.horizonDays, horizonDays), (Settings.discountRate, annualDiscountRate), (Settings.margin, margin),
    ] {
      if let problem = setting.problem(value) { p.append("\(setting.name): \(problem)") }
    }
    if let problem = Settings.maxErlangK.problem(maximumErlangK) { p.append("max_erlang_k: \(problem)") }
    if !(discountStepDays > 0 && discountStepDays.isFinite) {
      p.append("discount step must be a positive number of days, got \(discountStepDays)")
    }
    if maximumIterations < 1 { p.append("maximum iterations must be at least 1") }
    return p
  }
}

/// Which purchase model scores the customers.
public enum LifetimeModelKind: String, Sendable, Codable, Equatable {
  case bgnbd = "bg_nbd"
  case regularTiming = "mbg_cnbd_k"
  /// Nothing usable was fitted; purchase columns are null.
  case none
}

/// How the purchase model was chosen: Akaike's criterion on log-likelihoods
/// of the same purchase-time data (see `RegularTimingMBG`),
///
/// ```
/// AIC = −2 ℓ + 2 m,   m = 4 for BG/NBD, 5 for MBG/CNBD-k (r, α, a, b and k)
/// ```
/// the lower AIC wins; a model that did not converge is not eligible.
struct LifetimeModelSelection: Sendable, Codable, Equatable {
  var bgnbdAIC: Double?
  var regularTimingAIC: Double?
  var rule: String

  /// Only keys the snake-case strategies cannot derive from the property
  /// name, given in the camelCase those strategies map to the file's key.
  enum CodingKeys: String, CodingKey {
    case rule
    case bgnbdAIC = "bgNbdAic"
    case regularTimingAIC = "mbgCnbdKAic"
  }
}

/// Everything the lifetime stage learned; part of model.json.
public struct LifetimeModel: Sendable, Codable, Equatable {
  /// Days per time unit of the fitted parameters (α, γ are per unit).
  var timeUnitDays: Double
  public var customers: Int
  /// Customers left out because their summary is invalid (scored null).
  var invalidCustomers: Int
  /// Distinct (x, t_x, T) rows the recency models were fitted on.
  public var uniqueRecencyRows: Int
  public var chosen: LifetimeModelKind
  var selection: LifetimeModelSelection
  public var bgnbd: BGNBDFit?
  public var regularTiming: RegularTimingFit?
  public var gammaGamma: GammaGammaFit?
  /// Sentences for the operator, empty when all went well.
  public var diagnostics: [String]

  /// Only keys the snake-case strategies cannot derive from the property
  /// name, given in the camelCase those strategies map to the file's key.
  enum CodingKeys: String, CodingKey {
    case timeUnitDays, customers, invalidCustomers, uniqueRecencyRows, chosen, selection, gammaGamma, diagnostics
    case bgnbd = "bgNbd"
    case regularTiming = "mbgCnbdK"
  }
}

/// Per-customer outputs, struct of arrays indexed by customer; nil means
/// "write null" (model not fitted, customer invalid, or mean does not exist).
/// Every value is finite or nil, so the columns store NaN for nil
/// (`OptionalDoubleColumn`, half the memory of `[Double?]`).
///
/// Suggested customers.jsonl keys, in `jsonKeys` order: `p_alive`,
/// `expected_purchases`, `p_no_purchase`, `expected_spend`, `clv` (all over
/// `horizonDays` where a horizon applies).
public struct LifetimeColumns: Sendable {
  static let jsonKeys = ["p_alive", "expected_purchases", "p_no_purchase", "expected_spend", "clv"]

  /// The columns in `jsonKeys` order.
  var inJSONKeyOrder: [OptionalDoubleColumn] {
    [probabilityAlive, expectedPurchases, probabilityNoPurchase, expectedSpend, clv]
  }

  /// P(alive at the as-of day).
  public var probabilityAlive: OptionalDoubleColumn
  /// Expected purchases (purchase days) in the horizon.
  public var expectedPurchases: OptionalDoubleColumn
  /// P(no purchase in the horizon).
  var probabilityNoPurchase: OptionalDoubleColumn
  /// Expected spend per purchase (Gamma-Gamma), currency.
  public var expectedSpend: OptionalDoubleColumn
  /// Discounted expected margin over the horizon, currency.
  public var clv: OptionalDoubleColumn
  public var horizonDays: Double
}

/// The lifetime-value stage: BG/NBD or MBG/CNBD-k for purchases,
/// Gamma-Gamma for spend, discounted CLV.
///
/// ```
/// let summary = LifetimeSummary(ledger: ledger, table: table)   // x, t_x, T in days
/// let model   = LifetimeStage.fit(summary, options: options)    // → model.json "lifetime"
/// let columns = LifetimeStage.score(summary, model: model, options: options)
/// let (m, c)  = LifetimeStage.run(summary, options: options)    // both, compressing once
/// ```
///
/// Decisions, in one place:
/// - A "purchase" is a distinct purchase day (as `CustomerTable.purchaseDays`),
///   so x counts repeat purchase days and expected purchases are purchase days.
/// - Fitting works on unique (x, t_x, T) rows with counts; results do not
///   depend on customer order or thread count.
/// - Purchase model: BG/NBD always; MBG/CNBD-k (k = 1…maximumErlangK) when
///   the summary carries log inter-purchase sums. The lower AIC among the
///   converged ones scores; see `LifetimeModelSelection`.
/// - Failures never throw: a model that did not converge is recorded with its
///   diagnostics and not used; its columns are nil (write null). Nobody with a
///   repeat purchase → no purchase model. Invalid summary rows → null rows.
/// - Spend: Gamma-Gamma on customers with x > 0 and positive average repeat
///   spend; customers with no repeats (or non-positive net repeat spend) get
///   the population mean p γ/(q − 1); with q ≤ 1 (infinite mean) those get
///   null and the model says why.
/// - CLV needs both a purchase model and a spend model; otherwise null.
public struct LifetimeStage: Sendable {
  public var options: LifetimeOptions

  public init(_ options: LifetimeOptions = LifetimeOptions()) { self.options = options }

  /// Fits the purchase models and the spend model. Never throws: failures are
  /// diagnostics in the returned model, and `score` then yields nulls.
  ///
  /// - Complexity: O(n log n) to compress; each likelihood evaluation is
  ///   O(unique (x, t_x, T) rows) (O(K²·rows) for MBG/CNBD-k over k = 1…K),
  ///   Gamma-Gamma O(repeat customers).
  public static func fit(_ summary: LifetimeSummary, options: LifetimeOptions = LifetimeOptions()) -> LifetimeModel {
    fit(summary, rows: CompressedRecency(summary), options: options)
  }

  /// `fit` then `score`, compressing the summary once.
  public static func run(_ summary: LifetimeSummary, options: LifetimeOptions = LifetimeOptions()) -> (
    model: LifetimeModel, columns: LifetimeColumns
  ) {
    let rows = CompressedRecency(summary)
    let model = fit(summary, rows: rows, options: options)
    return (model, score(summary, rows: rows, model: model, options: options))
  }

  static func fit(_ summary: LifetimeSummary, rows: CompressedRecency, options: LifetimeOptions) -> LifetimeModel {
    precondition(options.problems.isEmpty, options.problems.joined(separator: "; "))
    let valid = Int(rows.totalWeight)
    var diagnostics = [String]()
    if valid < summary.count {
      diagnostics.append(
        "\(summary.count - valid) customers have an inconsistent summary (x < 0, t_x > T, negative or non-finite times, or repeats at time 0); they are left out and scored null"
      )
    }
    var model = LifetimeModel(
      timeUnitDays: summary.daysPerUnit, customers: summary.count, invalidCustomers: summary.count - valid,
      uniqueRecencyRows: rows.count, chosen: .none,
      selection: LifetimeModelSelection(
        bgnbdAIC: nil, regularTimingAIC: nil,
        rule: "lower AIC (−2ℓ + 2m; m = 4 BG/NBD, 5 MBG/CNBD-k) among converged models"),
      bgnbd: nil, regularTiming: nil, gammaGamma: nil, diagnostics: diagnostics)

    let anyRepeat = rows.x.contains { $0 > 0 }
    if rows.count == 0 {
      model.diagnostics.append("no customers to fit; lifetime columns are null")
    } else if !anyRepeat {
      model.diagnostics.append(
        "no customer has a repeat purchase, so purchase and dropout rates cannot be estimated; lifetime columns are null"
      )
    } else {
      let bg = BGNBD.fit(rows, maximumIterations: options.maximumIterations)
      model.bgnbd = bg
      if let m = bg.diagnostics.message { model.diagnostics.append(m) }
      if bg.diagnostics.converged { model.selection.bgnbdAIC = -2 * bg.logLikelihood + 8 }
      if options.maximumErlangK >= 1, let li = summary.logIntervalSum {
        var liTotal = 0.0, repeats = 0.0
        for i in 0..<summary.count where rows.rowOfCustomer[i] >= 0 {
          liTotal += li[i]; repeats += Double(summary.frequency[i])
        }
        if let reg = RegularTimingMBG.fit(
          rows, logIntervalTotal: liTotal, repeatTotal: repeats,
          maximumK: options.maximumErlangK, maximumIterations: options.maximumIterations,
          warmStart: bg.diagnostics.converged ? bg.parameters : nil)
        {
          model.regularTiming = reg
          if let m = reg.diagnostics.message { model.diagnostics.append(m) }
          if reg.diagnostics.converged { model.selection.regularTimingAIC = -2 * reg.logLikelihood + 10 }
        }
      } else if options.maximumErlangK >= 1 {
        model.diagnostics.append("summary has no log inter-purchase sums; regular-timing model not fitted")
      }
      switch (model.selection.bgnbdAIC, model.selection.regularTimingAIC) {
      case let (bgAIC?, regAIC?): model.chosen = regAIC < bgAIC ? .regularTiming : .bgnbd
      case (_?, nil): model.chosen = .bgnbd
      case (nil, _?): model.chosen = .regularTiming
      case (nil, nil):
        model.chosen = .none
        model.diagnostics.append("no purchase model converged; P(alive), expected purchases and CLV are null")
      }
    }
    let gg = GammaGamma.fit(summary, maximumIterations: options.maximumIterations)
    model.gammaGamma = gg
    if let m = gg.diagnostics.message { model.diagnostics.append(m) }
    return model
  }

  /// Scores every customer with a fitted model.
  ///
  /// With H = horizonDays / daysPerUnit, steps dⱼ = min(j·Δ, H) (Δ =
  /// discountStepDays in units), δ = ln(1 + annualDiscountRate) per 365.25
  /// days, E(d) = expected purchases in (T, T+d] of the chosen model and
  /// s = Gamma-Gamma expected spend per purchase:
  ///
  /// ```
  /// CLV = margin · s · Σⱼ [E(dⱼ) − E(dⱼ₋₁)] · exp(−δ · dⱼ · daysPerUnit / 365.25)
  /// ```
  /// i.e. purchases expected in each step are discounted from the step's end,
  /// with the continuous rate equivalent to the annual rate. Currency is the
  /// ledger's; null when E or s is null.
  ///
  /// - Complexity: O(n) plus O((x, T) pairs · components · H/Δ) series
  ///   evaluations (`PairScores`), parallel.
  public static func score(
    _ summary: LifetimeSummary, model: LifetimeModel, options: LifetimeOptions = LifetimeOptions()
  ) -> LifetimeColumns {
    score(summary, rows: CompressedRecency(summary), model: model, options: options)
  }

  static func score(_ summary: LifetimeSummary, rows: CompressedRecency, model: LifetimeModel, options: LifetimeOptions)
    -> LifetimeColumns
  {
    precondition(options.problems.isEmpty, options.problems.joined(separator: "; "))
    let scores = RowScores(rows: rows, model: model, options: options, daysPerUnit: summary.daysPerUnit)
    return scores.columns(summary, rows: rows, spend: model.gammaGamma, options: options)
  }
}

/// What `LifetimeStage.score` computes per unique (x, t_x, T) row, four
/// numbers a row side by side (P(alive), E(H), P(none in H), discounted
/// purchases Σ ΔE·v; NaN without a purchase model), so a customer's row is
/// one cache line away.
struct RowScores {
  static let width = 4
  var values: [Double]

  /// - Complexity: O(rows) plus the pair series (`PairScores`), parallel.
  init(rows: CompressedRecency, model: LifetimeModel, options: LifetimeOptions, daysPerUnit unitDays: Double) {
    let horizon = options.horizonDays / unitDays
    let step = options.discountStepDays / unitDays
    let delta = Double.log(onePlus: options.annualDiscountRate)
    var boundaries = [Double]()
    var d = 0.0
    while d < horizon {
      d = min(d + step, horizon)
      boundaries.append(d)
    }
    let discount = boundaries.map { Double.exp(-delta * $0 * unitDays / 365.25) }

    let m = rows.count
    values = [Double](repeating: .nan, count: Self.width * m)
    guard let pairs = PairScores(rows: rows, model: model, boundaries: boundaries, discount: discount) else { return }
    let (components, reg, bg) = (pairs.components, pairs.regularTiming, pairs.bgnbd)
    // log(α' + time) per distinct time, for the MBG/CNBD-k posterior.
    let logTime = reg.map { reg in rows.times.map { Double.log(reg.alpha / Double(reg.k) + $0) } } ?? []
    values.withUnsafeMutableBufferPointer { values in
      Parallel.forEachChunk(count: m, chunkCount: Parallel.chunkCount(for: m, minimumChunk: 8192)) { _, range in
        var scratch = [Double](repeating: 0, count: components + 1)
        var weights = [Double](repeating: 1, count: components)
        var terms = reg.map(RegularTimingMBG.ComponentTerms.init)
        for i in range {
          let x = rows.x[i], tx = rows.tx[i], t = rows.t[i]
          let pAlive: Double
          if let p = terms?.posterior(
            x: x, tx: tx, t: t, logAT: logTime[Int(rows.tIndex[i])], logATx: logTime[Int(rows.txIndex[i])],
            scratch: &scratch, weights: &weights)
          {
            pAlive = p
          } else if let bg {
            pAlive = BGNBD.probabilityAlive(bg, x: x, tx: tx, t: t)
          } else {
            continue
          }
          let base = Int(rows.pairOfRow[i]) * components
          var e = 0.0, d = 0.0, buy = 0.0
          for c in 0..<components where weights[c] > 0 {
            e += weights[c] * pairs.expected[base + c]
            d += weights[c] * pairs.discounted[base + c]
            buy += weights[c] * pairs.purchase[base + c]
          }
          values[Self.width * i] = pAlive
          values[Self.width * i + 1] = pAlive * e
          values[Self.width * i + 2] = 1 - pAlive * buy
          values[Self.width * i + 3] = pAlive * d
        }
      }
    }
  }

  /// Every customer's columns: its row's scores (NaN, i.e. null, when not
  /// finite or the customer is invalid), Gamma-Gamma expected spend when
  /// `spend` converged, and CLV = margin · spend · discounted purchases.
  /// Written in fixed chunks of customers on every core; each value is a
  /// function of its customer alone.
  ///
  /// - Complexity: O(customers), parallel.
  func columns(_ summary: LifetimeSummary, rows: CompressedRecency, spend gg: GammaGammaFit?, options: LifetimeOptions)
    -> LifetimeColumns
  {
    let n = summary.count
    let spendUsable = gg.map { $0.diagnostics.converged } ?? false
    // Five distinct arrays, each filled on every core (as copies of one
    // array, each was copied on one core when first written).
    func missing() -> [Double] { Parallel.map(elements: n) { _ in .nan } }
    var (alive, expected, none, spend, clv) = (missing(), missing(), missing(), missing(), missing())
    alive.withUnsafeMutableBufferPointer { alive in
      expected.withUnsafeMutableBufferPointer { expected in
        none.withUnsafeMutableBufferPointer { none in
          spend.withUnsafeMutableBufferPointer { spend in
            clv.withUnsafeMutableBufferPointer { clv in
              values.withUnsafeBufferPointer { values in
                Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n)) { _, range in
                  func finite(_ v: Double) -> Double { v.isFinite ? v : .nan }
                  for c in range {
                    let row = Int(rows.rowOfCustomer[c])
                    var s: Double?
                    if spendUsable, let gg {
                      s = GammaGamma.expectedSpend(
                        gg.parameters, x: summary.frequency[c], monetaryValue: summary.monetaryValue[c])
                    }
                    spend[c] = s ?? .nan
                    guard row >= 0 else { continue }
                    let scores = Self.width * row
                    alive[c] = finite(values[scores])
                    expected[c] = finite(values[scores + 1])
                    none[c] = finite(values[scores + 2])
                    let discounted = values[scores + 3]
                    if let s, discounted.isFinite { clv[c] = finite(options.margin * s * discounted) }
                  }
                }
              }
            }
          }
        }
      }
    }
    return LifetimeColumns(
      probabilityAlive: OptionalDoubleColumn(nanForMissing: alive),
      expectedPurchases: OptionalDoubleColumn(nanForMissing: expected),
      probabilityNoPurchase: OptionalDoubleColumn(nanForMissing: none),
      expectedSpend: OptionalDoubleColumn(nanForMissing: spend),
      clv: OptionalDoubleColumn(nanForMissing: clv),
      horizonDays: options.horizonDays)
  }
}

/// What an alive customer is expected to do in the horizon, per (x, T) pair
/// of the compressed rows and per alive state of the chosen model (one state
/// for BG/NBD; i = 0…k−1 stages of the current gap done for MBG/CNBD-k).
/// None of it depends on t_x, which only sets P(alive) and the state
/// weights, so the costly series run once per pair instead of once per row
/// (1M simulated customers: 26,493 pairs for 598,417 rows).
struct PairScores {
  /// The model that scores: exactly one is non-nil.
  let regularTiming: RegularTimingParameters?
  let bgnbd: BGNBDParameters?
  /// States per pair; values of pair p, state c are at p · components + c.
  let components: Int
  /// E(H | alive, state).
  var expected: [Double]
  /// Σⱼ [E(dⱼ) − E(dⱼ₋₁)] · vⱼ given alive and state (see `LifetimeStage.score`).
  var discounted: [Double]
  /// P(at least one purchase in H | alive, state).
  var purchase: [Double]

  /// nil when the model has no usable purchase model.
  init?(rows: CompressedRecency, model: LifetimeModel, boundaries: [Double], discount: [Double]) {
    let reg = model.chosen == .regularTiming ? model.regularTiming?.parameters : nil
    let bg = model.chosen == .bgnbd ? model.bgnbd?.parameters : nil
    guard reg != nil || bg != nil else { return nil }
    let components = reg?.k ?? 1
    (regularTiming, bgnbd, self.components) = (reg, bg, components)
    let horizon = boundaries.last ?? 0
    let count = rows.pairCount * components
    var expected = [Double](repeating: 0, count: count)
    var discounted = [Double](repeating: 0, count: count)
    var purchase = [Double](repeating: 0, count: count)
    expected.withUnsafeMutableBufferPointer { expected in
      discounted.withUnsafeMutableBufferPointer { discounted in
        purchase.withUnsafeMutableBufferPointer { purchase in
          Parallel.forEachChunk(count: count, chunkCount: Parallel.chunkCount(for: count, minimumChunk: 64)) {
            _, range in
            for j in range {
              let row = Int(rows.pairRow[j / components]), c = j % components
              let x = rows.x[row], t = rows.t[row]
              let ifAlive: (Double) -> Double
              if let reg {
                ifAlive = { RegularTimingMBG.expectedPurchasesIfAlive(reg, stage: c, x: x, t: t, horizon: $0) }
                purchase[j] = RegularTimingMBG.probabilityPurchaseIfAlive(reg, stage: c, x: x, t: t, horizon: horizon)
              } else if let bg {
                ifAlive = { BGNBD.expectedPurchasesIfAlive(bg, x: x, t: t, horizon: $0) }
                // 1 − (1 + H/(α+T))^−(r+x)
                purchase[j] = -Double.expMinusOne(-(bg.r + x) * Double.log(onePlus: horizon / (bg.alpha + t)))
              } else {
                continue
              }
              var previous = 0.0, sum = 0.0
              for (step, d) in boundaries.enumerated() {
                let e = ifAlive(d)
                sum += (e - previous) * discount[step]
                previous = e
              }
              expected[j] = previous
              discounted[j] = sum
            }
          }
        }
      }
    }
    self.expected = expected
    self.discounted = discounted
    self.purchase = purchase
  }
}
