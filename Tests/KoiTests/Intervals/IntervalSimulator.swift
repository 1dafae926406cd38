import RealModule

@testable import Koi

/// Seeded renewal-process simulator with known per-category cycles.
///
/// Each simulated customer enters a category on a day uniform in
/// `[asOfDay − spanDays, asOfDay)`, then repeats with i.i.d. gaps drawn from
/// the category's distribution (times the customer's own multiplier
/// `exp(δ_i)`, δ_i ~ N(0, heterogeneity²)) until the next purchase would
/// fall on or after `endDay`. Gaps are rounded to whole days, at least 1.
struct IntervalSimulator {
  enum Cycle {
    /// Weibull(shape k, scale λ days).
    case weibull(shape: Double, scale: Double)
    /// log T ~ N(log median, σ²).
    case logNormal(median: Double, sigma: Double)
    /// One purchase, never again.
    case oneOff

    func draw(_ g: inout SeededGenerator) -> Double {
      switch self {
      case let .weibull(k, lambda):
        var u = g.uniform()
        while u <= 0 { u = g.uniform() }
        return lambda * Double.pow(-Double.log(u), 1 / k)
      case let .logNormal(median, sigma):
        return median * Double.exp(sigma * g.normal())
      case .oneOff:
        return .infinity
      }
    }

    var median: Double {
      switch self {
      case let .weibull(k, lambda): return lambda * Double.pow(Double.log(2), 1 / k)
      case let .logNormal(median, _): return median
      case .oneOff: return .infinity
      }
    }

    var mean: Double {
      switch self {
      case let .weibull(k, lambda): return lambda * Double.exp(Double.logGamma(1 + 1 / k))
      case let .logNormal(median, sigma): return median * Double.exp(sigma * sigma / 2)
      case .oneOff: return .infinity
      }
    }
  }

  struct Category {
    var name: String
    var cycle: Cycle
    var customers: Int
  }

  var categories: [Category]
  var asOfDay: Int32 = 20_000
  var spanDays = 900
  var heterogeneity = 0.0
  /// Purchases are generated up to this day (exclusive); defaults to asOfDay.
  var endDay: Int32? = nil
  var seed: UInt64 = 42
  /// After each purchase the customer stops buying the category with this
  /// probability (churn), which gives long open intervals that never close.
  var churn = 0.0

  func rows() -> [Ledger.Row] {
    var rows: [Ledger.Row] = []
    let end = endDay ?? asOfDay
    for (ci, cat) in categories.enumerated() {
      for i in 0..<cat.customers {
        var g = SeededGenerator(seed: seed, stream: UInt64(ci * 1_000_000 + i))
        let id = "\(cat.name)-\(i)"
        let multiplier = Double.exp(heterogeneity * g.normal())
        var day = asOfDay - 1 - Int32(g.uniform() * Double(spanDays))
        rows.append(.init(customerID: id, day: day, item: cat.name, amount: 100))
        while true {
          if churn > 0 && g.uniform() < churn { break }
          let gap = cat.cycle.draw(&g) * multiplier
          if !gap.isFinite || Double(day) + gap >= Double(end) { break }
          day += Int32(max(1, gap.rounded()))
          if day >= end { break }
          rows.append(.init(customerID: id, day: day, item: cat.name, amount: 100))
        }
      }
    }
    return rows
  }
}
