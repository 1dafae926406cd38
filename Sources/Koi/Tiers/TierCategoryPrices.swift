/// The purchase prices each category's median price is taken of (see
/// `TierFeature`): the list prices known and > 0 and the finite amounts
/// paid of its purchases, each category's in row order, all categories'
/// in one flat array per kind.
///
/// Collected in two passes over the rows, both parallel over fixed chunks
/// of rows: the first counts each chunk's prices per category, which puts
/// every chunk's prices of a category at a known place of the category's
/// range; the second writes them there. So every array is allocated once,
/// at its final size, and the ranges hold exactly the prices, in the same
/// order, that appending row by row gives, whatever the chunks.
///
/// ```
/// rows ──► counts[chunk][category] ──► offsets (category-major) ──► prices[offset] = price
/// ```
struct TierCategoryPrices: Sendable {
  /// Category `j`'s list prices are `listed[listedStart[j]..<listedStart[j + 1]]`.
  private(set) var listed: [Double]
  private(set) var listedStart: [Int]
  /// Category `j`'s amounts paid are `paid[paidStart[j]..<paidStart[j + 1]]`
  /// (empty for a category whose amounts were not collected).
  private(set) var paid: [Double]
  private(set) var paidStart: [Int]

  /// The number of categories (`ledger.categories.count`).
  var categoryCount: Int { listedStart.count - 1 }

  /// Collects the prices of `ledger`'s purchases by category index.
  ///
  /// - Parameter allPaid: whether to collect the amounts paid of every
  ///   category (for `TierPriceCounts`, whose parts merge); false collects
  ///   them only for the categories without a list price, the only ones
  ///   whose median they decide.
  /// - Complexity: O(rows + chunks · categories), parallel over rows.
  init(ledger: Ledger, allPaid: Bool) {
    let m = ledger.categories.count
    let rows = ledger.rowCount
    // Each chunk keeps a count per category: at least 4 rows per category
    // in a chunk bounds that scratch by the rows.
    let chunks = Parallel.chunkCount(for: rows, minimumChunk: max(65_536, 4 * m))
    // listedCount[c * m + j], paidCount[c * m + j]: chunk c's prices of category j.
    var listedCount = [Int](repeating: 0, count: chunks * m)
    var paidCount = [Int](repeating: 0, count: chunks * m)
    ledger.amount.withUnsafeBufferPointer { amount in
      ledger.listPrice.withUnsafeBufferPointer { list in
        ledger.category.withUnsafeBufferPointer { category in
          listedCount.withUnsafeMutableBufferPointer { listedCount in
            paidCount.withUnsafeMutableBufferPointer { paidCount in
              Parallel.forEachChunk(count: rows, chunkCount: chunks) { c, range in
                // Rows have categories, so with rows the counts are not empty.
                guard !range.isEmpty else { return }
                let lc = listedCount.baseAddress! + c * m, pc = paidCount.baseAddress! + c * m
                for i in range {
                  let a = amount[i]
                  guard isPurchase(a) else { continue }
                  let j = Int(category[i])
                  let lp = list[i]
                  if lp.isFinite && lp > 0 { lc[j] += 1 }
                  if a.isFinite { pc[j] += 1 }
                }
              }
            }
          }
        }
      }
    }
    let collectPaid = (0..<m).map { j in allPaid || (0..<chunks).allSatisfy { listedCount[$0 * m + j] == 0 } }
    // Turn the counts into each chunk's first place per category, in
    // place: category-major, chunks in order within a category.
    func offsets(_ counts: inout [Int], collect: (Int) -> Bool) -> [Int] {
      var start = [0]
      var next = 0
      for j in 0..<m {
        for c in 0..<chunks {
          let n = collect(j) ? counts[c * m + j] : 0
          counts[c * m + j] = next
          next += n
        }
        start.append(next)
      }
      return start
    }
    let listedStart = offsets(&listedCount) { _ in true }
    let paidStart = offsets(&paidCount) { collectPaid[$0] }
    let listedTotal = listedStart[m], paidTotal = paidStart[m]
    var listedPlace = listedCount, paidPlace = paidCount
    // Every place is written exactly once below (the counts are the second
    // pass's writes), so the arrays need no zero fill first.
    var listed = [Double](unsafeUninitializedCapacity: listedTotal) { _, n in n = listedTotal }
    var paid = [Double](unsafeUninitializedCapacity: paidTotal) { _, n in n = paidTotal }
    ledger.amount.withUnsafeBufferPointer { amount in
      ledger.listPrice.withUnsafeBufferPointer { list in
        ledger.category.withUnsafeBufferPointer { category in
          listedPlace.withUnsafeMutableBufferPointer { listedPlace in
            paidPlace.withUnsafeMutableBufferPointer { paidPlace in
              listed.withUnsafeMutableBufferPointer { listed in
                paid.withUnsafeMutableBufferPointer { paid in
                  collectPaid.withUnsafeBufferPointer { collectPaid in
                    Parallel.forEachChunk(count: rows, chunkCount: chunks) { c, range in
                      guard !range.isEmpty else { return }
                      let lp = listedPlace.baseAddress! + c * m, pp = paidPlace.baseAddress! + c * m
                      for i in range {
                        let a = amount[i]
                        guard isPurchase(a) else { continue }
                        let j = Int(category[i])
                        let price = list[i]
                        if price.isFinite && price > 0 {
                          listed[lp[j]] = price
                          lp[j] += 1
                        }
                        if a.isFinite && collectPaid[j] {
                          paid[pp[j]] = a
                          pp[j] += 1
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    self.listed = listed
    self.listedStart = listedStart
    self.paid = paid
    self.paidStart = paidStart
  }

  /// Category `j`'s list prices, in row order.
  func listed(_ j: Int) -> ArraySlice<Double> { listed[listedStart[j]..<listedStart[j + 1]] }

  /// Category `j`'s amounts paid, in row order (empty when not collected).
  func paid(_ j: Int) -> ArraySlice<Double> { paid[paidStart[j]..<paidStart[j + 1]] }

  /// The median price per category (see `TierFeature`): of its list prices
  /// when it has any, else of its amounts paid; `+∞` for a category with no
  /// purchase. The same `Double`s as `Selection.median` of each category's
  /// prices in any order (the median depends only on the multiset).
  ///
  /// Selects in the arrays' own storage, so the prices are consumed.
  ///
  /// - Complexity: O(prices) expected, parallel over categories.
  consuming func medians() -> [Double] {
    let m = categoryCount
    let listedStart = listedStart, paidStart = paidStart
    return listed.withUnsafeMutableBufferPointer { listed in
      paid.withUnsafeMutableBufferPointer { paid in
        Parallel.map(m) { j in
          // A non-empty range of a non-empty array: the base address exists.
          if listedStart[j + 1] > listedStart[j] {
            return Selection.median(listed.baseAddress! + listedStart[j], count: listedStart[j + 1] - listedStart[j])
          }
          if paidStart[j + 1] > paidStart[j] {
            return Selection.median(paid.baseAddress! + paidStart[j], count: paidStart[j + 1] - paidStart[j])
          }
          return .infinity
        }
      }
    }
  }
}
