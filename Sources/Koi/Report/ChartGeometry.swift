import Foundation

/// A linear map from a data interval onto a pixel interval.
///
/// ```
/// y(x) = range.lower + (x − domain.lower) · (range.upper − range.lower) / (domain.upper − domain.lower)
/// ```
///
/// A degenerate domain (one value: a run of one customer) is widened to
/// `[v − 1, v + 1]` (or `[0, 1]` for 0) so that the value sits mid-axis
/// instead of dividing by zero. Ranges may run downwards (SVG's y axis).
struct LinearScale: Sendable, Equatable {
  let domain: ClosedRange<Double>
  let lower: Double
  let upper: Double

  init(domain: ClosedRange<Double>, range: (Double, Double)) {
    var d = domain
    if !(d.upperBound > d.lowerBound) || !d.lowerBound.isFinite || !d.upperBound.isFinite {
      let v = d.lowerBound.isFinite ? d.lowerBound : 0
      d = v == 0 ? 0...1 : (v - abs(v))...(v + abs(v))
    }
    self.domain = d
    lower = range.0
    upper = range.1
  }

  func callAsFunction(_ x: Double) -> Double {
    lower + (x - domain.lowerBound) * (upper - lower) / (domain.upperBound - domain.lowerBound)
  }
}

/// "Nice" axis ticks: steps of 1, 2 or 5 × 10ⁿ, covering `[low, high]`,
/// about `count` of them (Heckbert, "Nice numbers for graph labels",
/// Graphics Gems, 1990).
enum AxisTicks {
  /// The step and ticks for `[low, high]`; the first tick ≤ low, the last
  /// ≥ high. A degenerate interval gets ticks around its value.
  static func nice(low: Double, high: Double, count: Int = 5) -> [Double] {
    var lo = low.isFinite ? low : 0
    var hi = high.isFinite ? high : lo
    if hi < lo { swap(&lo, &hi) }
    if hi == lo {
      if lo == 0 { hi = 1 } else { lo -= abs(lo) / 2; hi += abs(hi) / 2 }
    }
    let step = niceStep((hi - lo) / Double(max(1, count)))
    let first = (lo / step).rounded(.down) * step
    let last = (hi / step).rounded(.up) * step
    var ticks: [Double] = []
    var i = 0
    while true {
      let t = first + Double(i) * step
      // Snap floating residues (3 × 0.2 = 0.6000000000000001 → 0.6) to
      // the step's decimals.
      let scale = Foundation.pow(10, max(0, -(Foundation.log10(step)).rounded(.down)))
      let snapped = (t * scale).rounded() / scale
      ticks.append(abs(snapped) < step * 1e-9 ? 0 : snapped)
      if t >= last - step * 1e-9 || i > 1000 { break }
      i += 1
    }
    return ticks
  }

  /// 1, 2, 5 or 10 × 10ⁿ, the least not below `raw`.
  static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let e = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
    let f = raw / e
    let nice: Double = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
    return nice * e
  }
}

/// Equal-width bins over `[lower, upper]`: counts and sums, merged as
/// values stream in. Values outside go to the first or last bin.
struct BinnedCounts: Sendable, Equatable {
  let lower: Double
  let upper: Double
  private(set) var counts: [Int]

  init(lower: Double, upper: Double, bins: Int) {
    precondition(bins > 0 && upper > lower)
    self.lower = lower
    self.upper = upper
    counts = Array(repeating: 0, count: bins)
  }

  mutating func add(_ x: Double) {
    guard x.isFinite else { return }
    let b = Int(((x - lower) / (upper - lower) * Double(counts.count)).rounded(.down))
    counts[min(counts.count - 1, max(0, b))] += 1
  }

  /// Adds `other`'s counts (the same bins).
  mutating func merge(_ other: BinnedCounts) {
    for i in counts.indices { counts[i] += other.counts[i] }
  }

  var total: Int { counts.reduce(0, +) }

  /// The lower and upper edge of bin `i`.
  func edges(_ i: Int) -> (Double, Double) {
    let w = (upper - lower) / Double(counts.count)
    return (lower + Double(i) * w, lower + Double(i + 1) * w)
  }
}

/// Non-negative values (CLV) binned on a log scale — 0 in bin 0, then 40
/// bins per decade from 10⁻² to 10¹⁰ — with each bin's count and sum, so a
/// Lorenz curve of any number of customers is drawn from a few hundred
/// numbers. Within a bin values are taken as equal to the bin's mean, so the
/// curve is exact at bin edges; the error of the area is below the width of
/// one bin (a factor of 10^(1/40) ≈ 1.06 in value). The sums are exact, so
/// parts of the customers binned apart and merged give the same curve.
struct LogBinnedSums: Sendable, Equatable {
  static let perDecade = 40
  static let lowDecade = -2
  static let highDecade = 10
  private(set) var counts: [Int]
  private var exactSums: [ExactSum]

  init() {
    let n = 1 + LogBinnedSums.perDecade * (LogBinnedSums.highDecade - LogBinnedSums.lowDecade) + 1
    counts = Array(repeating: 0, count: n)
    exactSums = Array(repeating: ExactSum(), count: n)
  }

  /// Each bin's sum, correctly rounded.
  var sums: [Double] { exactSums.map(\.value) }

  mutating func merge(_ other: LogBinnedSums) {
    for b in counts.indices where other.counts[b] > 0 {
      counts[b] += other.counts[b]
      exactSums[b].merge(other.exactSums[b])
    }
  }

  /// Equal counts and equal sums (an exact sum's partials depend on the
  /// order its values came in).
  static func == (a: LogBinnedSums, b: LogBinnedSums) -> Bool { a.counts == b.counts && a.sums == b.sums }

  /// Adds a value; negatives and NaN count as 0.
  mutating func add(_ x: Double) {
    let v = x.isFinite ? max(0, x) : 0
    let b: Int
    if v < Foundation.pow(10, Double(LogBinnedSums.lowDecade)) {
      b = 0
    } else {
      let k = ((Foundation.log10(v) - Double(LogBinnedSums.lowDecade)) * Double(LogBinnedSums.perDecade))
        .rounded(.down)
      b = min(counts.count - 1, 1 + Int(k))
    }
    counts[b] += 1
    exactSums[b].add(v)
  }

  var customers: Int { counts.reduce(0, +) }
  var total: Double { sums.reduce(0, +) }

  /// The Lorenz curve: points (share of customers, share of the total), from
  /// the least valuable up, starting at (0, 0) and ending at (1, 1); empty
  /// without customers or with a total of 0.
  func lorenz() -> [(x: Double, y: Double)] {
    let n = Double(customers)
    let sums = self.sums
    let t = sums.reduce(0, +)
    guard n > 0, t > 0 else { return [] }
    var pts: [(x: Double, y: Double)] = [(0, 0)]
    var cn = 0.0
    var cs = 0.0
    for b in counts.indices where counts[b] > 0 {
      cn += Double(counts[b])
      cs += sums[b]
      pts.append((cn / n, cs / t))
    }
    return pts
  }

  /// The share of the total held by the top `fraction` of customers, read
  /// off the Lorenz curve (linear within a bin).
  func topShare(_ fraction: Double) -> Double? {
    let pts = lorenz()
    guard !pts.isEmpty else { return nil }
    let x = 1 - fraction
    for i in 1..<pts.count where pts[i].x >= x {
      let (a, b) = (pts[i - 1], pts[i])
      let t = b.x > a.x ? (x - a.x) / (b.x - a.x) : 1
      return 1 - (a.y + t * (b.y - a.y))
    }
    return 0
  }

  /// The Gini coefficient, 1 − 2 × (area under the Lorenz curve), with the
  /// area by trapezoids.
  func gini() -> Double? {
    let pts = lorenz()
    guard pts.count > 1 else { return nil }
    var area = 0.0
    for i in 1..<pts.count { area += (pts[i].x - pts[i - 1].x) * (pts[i].y + pts[i - 1].y) / 2 }
    return 1 - 2 * area
  }
}

/// The expected purchases of one (customer, treatment) in each of the next
/// weeks, from its probabilities of buying within 30, 60 and 90 days.
///
/// The cumulative probability F(t) is taken as piecewise linear through
/// (0, 0), (30, p₃₀), (60, p₆₀), (90, p₉₀); week w (days 7(w−1) … 7w) gets
/// F(7w) − F(7(w−1)). Summed over customers, a week's value is the expected
/// number of customers buying the treatment that week (each counted once,
/// for their next purchase).
///
/// F(t) is linear in (p₃₀, p₆₀, p₉₀) for each t, so the weeks of many pairs
/// are the weeks of their summed (clamped) probabilities: the report sums
/// three numbers a pair and splits the sums into weeks once.
enum DueCalendar {
  /// The probabilities as F uses them: within 0…1 and never decreasing, a
  /// missing one equal to the one before.
  static func clamped(p30: Double, p60: Double?, p90: Double?) -> (Double, Double, Double) {
    let a = max(0, min(1, p30))
    let b = max(a, min(1, p60 ?? a))
    return (a, b, max(b, min(1, p90 ?? b)))
  }

  /// The weeks of clamped probabilities (a, b, c), or of their sums over
  /// pairs.
  static func weekly(_ a: Double, _ b: Double, _ c: Double, weeks: Int = 12) -> [Double] {
    func f(_ t: Double) -> Double {
      if t <= 30 { return a * t / 30 }
      if t <= 60 { return a + (b - a) * (t - 30) / 30 }
      if t <= 90 { return b + (c - b) * (t - 60) / 30 }
      return c
    }
    return (1...weeks).map { w in f(Double(7 * w)) - f(Double(7 * (w - 1))) }
  }
}

/// A repurchase gap distribution of the interval model: log T = μ + σ W,
/// with W standard normal (log-normal) or standard minimum-Gumbel
/// (Weibull), so
///
/// ```
/// f(t) = φ_W((ln t − μ) / σ) / (σ t),   t_q = exp(μ + σ Q_W(q))
/// ```
struct GapDensity: Sendable {
  let family: IntervalFamily
  let mu: Double
  let sigma: Double

  func density(_ t: Double) -> Double {
    guard t > 0 else { return 0 }
    let z = (Foundation.log(t) - mu) / sigma
    return Foundation.exp(family.logDensityW(z)) / (sigma * t)
  }

  func quantile(_ q: Double) -> Double { Foundation.exp(mu + sigma * family.quantileW(q)) }

  /// `points` (t, f(t)) from near 0 to the 99th percentile.
  func curve(points: Int = 80) -> [(x: Double, y: Double)] {
    let hi = quantile(0.99)
    return (0...points).map { i in
      let t = max(hi * 1e-3, hi * Double(i) / Double(points))
      return (t, density(t))
    }
  }
}
