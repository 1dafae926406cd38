/// A column of optional numbers stored as plain `Double`s, NaN meaning nil:
/// 8 bytes a value where `[Double?]` takes 16 (an `Optional<Double>` has a
/// 16-byte stride), so 1.47M customers' five lifetime columns take 59 MB
/// instead of 118 MB. Reads and writes see `Double?`, as `[Double?]` would;
/// a NaN written reads back as nil, so only columns whose values are finite
/// or missing (written as null either way) belong here.
///
/// ```swift
/// var clv = OptionalDoubleColumn(repeating: nil, count: n)
/// clv[c] = 12.5
/// if let v = clv[c] { … }
/// ```
public struct OptionalDoubleColumn: RandomAccessCollection, MutableCollection, Sendable, Equatable {
  /// The values, NaN where missing.
  public internal(set) var nanForMissing: [Double]

  public init(repeating value: Double?, count: Int) {
    nanForMissing = [Double](repeating: value ?? .nan, count: count)
  }

  public init<S: Sequence>(_ values: S) where S.Element == Double? {
    nanForMissing = values.map { $0 ?? .nan }
  }

  /// A column whose NaN values are the missing ones.
  public init(nanForMissing: [Double]) { self.nanForMissing = nanForMissing }

  public var startIndex: Int { 0 }
  public var endIndex: Int { nanForMissing.count }

  public subscript(i: Int) -> Double? {
    get {
      let v = nanForMissing[i]
      return v.isNaN ? nil : v
    }
    set { nanForMissing[i] = newValue ?? .nan }
  }

  /// Equal when missing in the same places and equal elsewhere (NaN is
  /// never equal to itself, so the stored arrays cannot be compared).
  public static func == (a: Self, b: Self) -> Bool { a.elementsEqual(b) }
}
