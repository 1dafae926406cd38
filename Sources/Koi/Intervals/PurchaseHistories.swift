/// Per (customer, category) purchase histories, struct of arrays: the input
/// of every repurchase-interval computation.
///
/// A *pair* is a customer together with a treatment category in which the
/// customer has at least one purchase (`isPurchase`) before the as-of day.
/// Pairs of customer `c` are `pairStart[c] ..< pairStart[c + 1]`, in
/// ascending category index, so a writer can stream per customer.
///
/// Within a pair, purchase *occasions* are the distinct purchase days: several
/// rows on one day in one category (a course paid in parts, a duplicate
/// import) count as one occasion. The observed inter-purchase *gaps* are the
/// differences between consecutive occasions, in days (always ≥ 1); the gaps
/// of pair `p` are `gaps[gapStart[p] ..< gapStart[p + 1]]`, in time order.
/// The *open interval* `asOfDay − lastDay[p]` (≥ 1, because every ledger row
/// is before the as-of day) is right-censored: the customer has not come back
/// in that category yet, which is information, not missing data.
///
/// Refunds and zero-amount rows are not occasions.
public struct PurchaseHistories: Sendable {
  /// The reference day the open intervals are measured to.
  public let asOfDay: Int32
  /// `customerCount + 1` offsets into the pair columns.
  public var pairStart: [Int]
  /// Customer index of each pair.
  var pairCustomer: [Int32]
  /// Category index of each pair (index into `Ledger.categories`).
  var pairCategory: [Int32]
  /// First purchase day of each pair.
  var firstDay: [Int32]
  /// Last purchase day of each pair.
  public var lastDay: [Int32]
  /// Number of occasions (distinct purchase days) of each pair; gaps = occasions − 1.
  var occasions: [Int32]
  /// `pairCount + 1` offsets into `gaps`.
  var gapStart: [Int]
  /// Observed inter-purchase gaps in days, grouped by pair.
  public var gaps: [Int32]

  public var customerCount: Int { pairStart.count - 1 }
  public var pairCount: Int { pairCustomer.count }

  /// The pairs of customer `c`.
  @inlinable
  public func pairs(of c: Int) -> Range<Int> { pairStart[c]..<pairStart[c + 1] }

  /// The right-censored open interval of pair `p`, in days.
  @inlinable
  public func openInterval(_ p: Int) -> Int32 { asOfDay &- lastDay[p] }

  /// Builds the histories of every customer in `ledger`, as of `asOfDay`.
  ///
  /// Each customer's purchase rows are sorted by (category, day) in a small
  /// scratch buffer (insertion sort up to 32 rows, runs being short and
  /// already in day order; a full sort beyond), then walked once. Customers are processed in fixed chunks in
  /// parallel; the chunk outputs are concatenated in chunk order, so the
  /// result does not depend on the thread count.
  ///
  /// - Precondition: every ledger day is before `asOfDay`.
  /// - Complexity: O(Σ_c r_c log r_c) ≤ O(rows · log(longest run)) time for
  ///   customers with r_c purchase rows (O(r_c) for a single category);
  ///   O(rows) memory.
  public init(ledger: Ledger, asOfDay: Int32) {
    self.asOfDay = asOfDay
    let c = ledger.customerCount
    let chunks = Parallel.chunkCount(customers: c, rows: ledger.day.count)
    struct Columns {
      var pairCount: [Int32] = []
      var customer: [Int32] = []
      var category: [Int32] = []
      var first: [Int32] = []
      var last: [Int32] = []
      var occ: [Int32] = []
      var gaps: [Int32] = []
    }
    /// One chunk's columns, written by the chunk's task only.
    final class Box: @unchecked Sendable {
      var columns = Columns()
    }
    let boxes = (0..<chunks).map { _ in Box() }
    ledger.day.withUnsafeBufferPointer { day in
      ledger.amount.withUnsafeBufferPointer { amount in
        ledger.category.withUnsafeBufferPointer { category in
          ledger.customerStart.withUnsafeBufferPointer { start in
            Parallel.forEachChunk(count: c, chunkCount: chunks) { chunk, range in
              // Built in locals and handed to the box at the end: appending
              // to the box's (class) properties checked exclusive access at
              // every append.
              var b = Columns()
              let rows = start[range.upperBound] - start[range.lowerBound]
              b.pairCount.reserveCapacity(range.count)
              b.customer.reserveCapacity(rows)
              b.category.reserveCapacity(rows)
              b.first.reserveCapacity(rows)
              b.last.reserveCapacity(rows)
              b.occ.reserveCapacity(rows)
              b.gaps.reserveCapacity(rows)
              // (category, day) keys of the current customer's purchases.
              var scratch: [UInt64] = []
              scratch.reserveCapacity(64)
              for k in range {
                scratch.removeAll(keepingCapacity: true)
                for i in start[k]..<start[k + 1] where isPurchase(amount[i]) {
                  let d = day[i]
                  precondition(d < asOfDay, "ledger row on or after the as-of day")
                  // Bias the day so the key orders correctly for negative days.
                  let key =
                    UInt64(UInt32(bitPattern: category[i])) << 32
                    | UInt64(UInt32(bitPattern: d) ^ 0x8000_0000)
                  scratch.append(key)
                }
                // Keys arrive in day order; only the category interleaving needs
                // sorting. Insertion sort for the usual short run, else O(r log r).
                if scratch.count <= 32 {
                  var i = 1
                  while i < scratch.count {
                    let v = scratch[i]
                    var j = i
                    while j > 0 && scratch[j - 1] > v {
                      scratch[j] = scratch[j - 1]
                      j -= 1
                    }
                    scratch[j] = v
                    i += 1
                  }
                } else {
                  scratch.sort()
                }
                var pairs: Int32 = 0
                var j = 0
                while j < scratch.count {
                  let cat = Int32(bitPattern: UInt32(truncatingIfNeeded: scratch[j] >> 32))
                  var prev = Int32(bitPattern: UInt32(truncatingIfNeeded: scratch[j]) ^ 0x8000_0000)
                  let firstDay = prev
                  var n: Int32 = 1
                  j += 1
                  while j < scratch.count && Int32(bitPattern: UInt32(truncatingIfNeeded: scratch[j] >> 32)) == cat {
                    let d = Int32(bitPattern: UInt32(truncatingIfNeeded: scratch[j]) ^ 0x8000_0000)
                    if d != prev {
                      b.gaps.append(d &- prev)
                      n &+= 1
                      prev = d
                    }
                    j += 1
                  }
                  b.customer.append(Int32(truncatingIfNeeded: k))
                  b.category.append(cat)
                  b.first.append(firstDay)
                  b.last.append(prev)
                  b.occ.append(n)
                  pairs &+= 1
                }
                b.pairCount.append(pairs)
              }
              boxes[chunk].columns = b
            }
          }
        }
      }
    }
    // Concatenate in chunk order.
    var pairStart = [Int](repeating: 0, count: c + 1)
    var k = 0
    let parts = boxes.map(\.columns)
    for b in parts {
      for n in b.pairCount {
        pairStart[k + 1] = pairStart[k] + Int(n)
        k += 1
      }
    }
    self.pairStart = pairStart
    pairCustomer = parts.flatMap(\.customer)
    pairCategory = parts.flatMap(\.category)
    firstDay = parts.flatMap(\.first)
    lastDay = parts.flatMap(\.last)
    occasions = parts.flatMap(\.occ)
    gaps = parts.flatMap(\.gaps)
    var gs = [Int](repeating: 0, count: occasions.count + 1)
    for p in 0..<occasions.count { gs[p + 1] = gs[p] + Int(occasions[p]) - 1 }
    gapStart = gs
  }
}
