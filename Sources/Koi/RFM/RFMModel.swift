import Foundation

/// RFM scoring thresholds learned from one population.
///
/// Scores run from 1 to `bins` (5 = most recent / most frequent / highest
/// spend). Fitting uses the rank rule
///
///     score(v) = 1 + ⌊bins · #{customers strictly worse than v} / N⌋
///
/// where "worse" is a larger recency, a smaller frequency or a smaller
/// monetary value. Equal values always get equal scores, and the rule is
/// reproducible in SQL as `1 + floor(bins * (rank() over (order by v) - 1) / count(*) over ())`
/// (ordering recency descending). With many ties a score can be skipped: if
/// 60% of customers bought on one day, they all get F = 1 and the next
/// frequency gets F = 4.
///
/// The fit is stored as cut points so a later population can be scored with
/// the same thresholds: `cutPoints[s − 2]` is the least value (the largest
/// recency) that scores at least `s`; nil where no value does.
public struct RFMModel: Sendable, Equatable, Codable {
  public var bins: Int
  public var recency: [Double?]
  public var frequency: [Double?]
  var monetary: [Double?]
  /// Every customer's net amount as value counts: the monetary percentile
  /// of the tags (`monetary_percentile`) is taken from it, so a customer
  /// scored in a shard, or with `koi score --model`, gets the percentile of
  /// the fitting population (nil in a model from before it was saved).
  var monetaryDistribution: MonetaryDistribution? = nil

  /// Raw values are the camelCase forms that the snake-case key
  /// strategies of `JSONEncoder.koi` and `JSONDecoder.koi` turn into the
  /// file's keys and back.
  enum CodingKeys: String, CodingKey {
    case bins
    case recency = "recencyCutPoints"
    case frequency = "frequencyCutPoints"
    case monetary = "monetaryCutPoints"
    case monetaryDistribution
  }
}

/// The net amounts of a population as ascending distinct values with the
/// number of customers strictly below each:
///
/// ```
/// percentile(v) = #{customers with net amount < v} / N
/// ```
///
/// Saved in model.json (`rfm.monetary_distribution`) as one string, the
/// compact JSON `{"counts":[…],"values":[…]}` with shortest round-trip
/// doubles (a pretty-printed array would take a line per value), so
/// reading it back gives the same bits.
struct MonetaryDistribution: Sendable, Equatable, Codable {
  /// Distinct net amounts, ascending.
  private(set) var values: [Double]
  /// How many customers have each value.
  private(set) var counts: [Int]
  /// `below[i]`: customers with a value below `values[i]`; `below.last` = N.
  private let below: [Int]
  /// An open-addressing table of the values' bit patterns: `slotValue[s]`
  /// and `slotIndex[s]` (index + 1, 0 for an empty slot), home slot
  /// `homeSlot(bits)`, at most half full.
  private let slotValue: [UInt64]
  private let slotIndex: [Int32]

  init(_ v: ValueCounts) { self.init(values: v.values, counts: v.counts) }

  init(values: [Double], counts: [Int]) {
    self.values = values
    self.counts = counts
    var b = [0]
    b.reserveCapacity(counts.count + 1)
    for c in counts { b.append(b[b.count - 1] + c) }
    below = b
    var size = 16
    while size < 2 * values.count { size <<= 1 }
    var slotValue = [UInt64](repeating: 0, count: size), slotIndex = [Int32](repeating: 0, count: size)
    for (i, v) in values.enumerated() where !v.isNaN {
      var s = Self.homeSlot(v.bitPattern, size: size)
      while slotIndex[s] != 0 { s = (s + 1) & (size - 1) }
      slotValue[s] = v.bitPattern
      slotIndex[s] = Int32(i + 1)
    }
    self.slotValue = slotValue
    self.slotIndex = slotIndex
  }

  @inline(__always)
  private static func homeSlot(_ bits: UInt64, size: Int) -> Int {
    Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 32) & (size - 1)
  }

  /// Customers in the population.
  var total: Int { below[below.count - 1] }

  /// `#{x < v} / N` (0 for an empty population).
  ///
  /// Every customer's percentile is one call, with the customer's own
  /// amount, which is one of `values` when the population is the scored
  /// customers: found in the table, its index is the count's. A binary
  /// search (about 90 ns a customer at 10M rows, its loads in no order)
  /// answers the others.
  ///
  /// - Complexity: O(1) expected for a value of the population, else
  ///   O(log distinct values).
  func percentile(_ v: Double) -> Double {
    guard total > 0 else { return 0 }
    return Double(below[index(v)]) / Double(total)
  }

  /// The first index of `values` whose value is not below `v`
  /// (`values.count` when there is none; 0 for NaN).
  func index(_ v: Double) -> Int {
    let bits = v.bitPattern
    let found: Int? = slotValue.withUnsafeBufferPointer { slotValue in
      slotIndex.withUnsafeBufferPointer { slotIndex in
        var s = Self.homeSlot(bits, size: slotIndex.count)
        while slotIndex[s] != 0 {
          // values[i] == v and the values are distinct and ascending: every
          // value before i is below v, none from i on.
          if slotValue[s] == bits { return Int(slotIndex[s]) - 1 }
          s = (s + 1) & (slotIndex.count - 1)
        }
        return nil
      }
    }
    if let found { return found }
    var lo = 0, hi = values.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if values[mid] < v { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  private struct Stored: Codable {
    var counts: [Int]
    var values: [Double]
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(try storedText())
  }

  /// The compact JSON of `Stored(counts:values:)` as `JSONEncoder.koiCompact`
  /// writes it: its keys in order, integers, and each double as its
  /// shortest round-trip `description` without a trailing ".0" (the
  /// encoder's form for every finite double; a test compares the two).
  /// Written directly: through the encoder, a 10M-row run's 75,029 values
  /// took 0.09 s of a core. Non-finite values, which the encoder refuses,
  /// go to it for its error.
  func storedText() throws -> String {
    guard values.allSatisfy(\.isFinite) else { return try encodedStoredText() }
    var o = CompactJSONObject(capacity: 16 * (counts.count + 1))
    o.list("counts", counts) { String($0) }
    o.list("values", values, JSONEncoder.numberText)
    return o.close()
  }

  /// The text through `JSONEncoder.koiCompact` itself (what `storedText()`
  /// must equal; its tests compare the two).
  func encodedStoredText() throws -> String {
    String(decoding: try JSONEncoder.koiCompact.encode(Stored(counts: counts, values: values)), as: UTF8.self)
  }

  init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    let s = try JSONDecoder.koi.decode(Stored.self, from: Data(text.utf8))
    guard s.counts.count == s.values.count, s.counts.allSatisfy({ $0 > 0 }),
      zip(s.values, s.values.dropFirst()).allSatisfy({ $0 < $1 })
    else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "monetary_distribution needs ascending distinct values, each with a positive count"))
    }
    self.init(values: s.values, counts: s.counts)
  }
}

/// Per-customer RFM figures and scores, struct of arrays by customer index.
public struct RFMColumns: Sendable {
  /// Days from the last purchase to the as-of day (≥ 1).
  var recencyDays: [Int32]
  /// Distinct purchase days.
  public var frequency: [Int32]
  /// Net amount, refunds included.
  var monetary: [Double]
  var rScore: [UInt8]
  var fScore: [UInt8]
  var mScore: [UInt8]
  public var segment: [RFMSegment]
}
