import RealModule

/// Natural logarithms of whole numbers of days, read from a table instead
/// of computed: the interval stage takes `log` of every gap, open interval
/// and elapsed time (several times each: covariate fits, shrinkage,
/// scoring, the statistical curve at 30/60/90 days past the elapsed time),
/// and those are whole numbers of days below a few thousand.
///
/// Each entry is `Double.log(Double(d))`, the very call the table replaces,
/// so a lookup returns the same bits (a test checks every entry); other
/// arguments (fractional, negative, beyond the table) are computed.
enum DayLogarithm {
  /// Whole days below this are looked up: 4,096 days (11 years) cover the
  /// gaps and elapsed times of typical ledgers in 32 KB.
  static let tableSize = 4096

  private static let table: [Double] = (0..<tableSize).map { Double.log(Double($0)) }

  /// `Double.log(Double(days))`.
  @inline(__always)
  static func log(_ days: Int32) -> Double {
    days >= 0 && Int(days) < tableSize ? table[Int(days)] : Double.log(Double(days))
  }

  /// `Double.log(x)`, looked up when `x` is a whole number of days in the table.
  @inline(__always)
  static func log(_ x: Double) -> Double {
    if x >= 0 && x < Double(tableSize) {
      let d = Int(x)
      if Double(d) == x { return table[d] }
    }
    return Double.log(x)
  }
}
