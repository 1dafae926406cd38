/// The tier feature values that depend only on each customer's own rows
/// (and, for `premium_share`, on the category median prices): the
/// per-customer pass of `TierFeatureTable`, before imputation.
///
/// A part of the population (a shard of customers, each with all of its
/// rows, with the whole population's category and channel lists) gives its
/// customers exactly the values the whole ledger gives them; `gathered`
/// puts the parts' customers into the whole population's order, and
/// `TierFeatureTable.init(customers:table:columns:categories:medians:requested:population:)`
/// does the rest.
///
/// NaN marks "no known value" in the imputable columns.
struct TierCustomerFeatures: Sendable {
  /// Mean `clamp(1 − paid/list, −1, 1)` over purchases with a list price
  /// known and > 0; NaN without one.
  var discountDepth: [Double]
  /// Share of purchases with promo = 1 among those with the flag known; NaN
  /// without one.
  var promoShare: [Double]
  /// Share of purchases priced above their category's median; 0 when no
  /// medians were given (premium share not requested) or without purchases.
  var premiumShare: [Double]
  /// Distinct categories purchased.
  var breadth: [Double]
  /// Share of the purchases with a known channel made through the most-used
  /// one; NaN without one.
  var channelShare: [Double]

  /// The number of customers.
  var count: Int { breadth.count }

  /// The columns as given.
  ///
  /// - Precondition: all five have the same length.
  init(
    discountDepth: [Double], promoShare: [Double], premiumShare: [Double], breadth: [Double],
    channelShare: [Double]
  ) {
    precondition(
      [discountDepth.count, promoShare.count, premiumShare.count, channelShare.count].allSatisfy {
        $0 == breadth.count
      }, "tier feature columns of different lengths")
    self.discountDepth = discountDepth
    self.promoShare = promoShare
    self.premiumShare = premiumShare
    self.breadth = breadth
    self.channelShare = channelShare
  }

  /// The values of every customer of `ledger`, purchases priced against
  /// `medians` (by category index; empty: premium share not requested, all 0).
  ///
  /// - Precondition: `medians` is empty or has one price per category of
  ///   `ledger.categories`.
  /// - Complexity: O(rows), parallel over customers.
  init(ledger: Ledger, medians: [Double]) {
    precondition(
      medians.isEmpty || medians.count == ledger.categories.count, "one median price per category, or none")
    let c = ledger.customerCount
    var discount = [Double](), promo = [Double](), premium = [Double](), breadth = [Double](),
      channel = [Double]()
    let channelCount = ledger.channels.count
    let categoryCount = ledger.categories.count
    // Every customer's place in the five columns is written exactly once by
    // the loop below (one chunk each, on every core), so they need no fill first.
    discount = [Double](unsafeUninitializedCapacity: c) { discount, discountDone in
      promo = [Double](unsafeUninitializedCapacity: c) { promo, promoDone in
        premium = [Double](unsafeUninitializedCapacity: c) { premium, premiumDone in
          breadth = [Double](unsafeUninitializedCapacity: c) { breadth, breadthDone in
            channel = [Double](unsafeUninitializedCapacity: c) { channel, channelDone in
              ledger.amount.withUnsafeBufferPointer { amount in
                ledger.listPrice.withUnsafeBufferPointer { list in
                  ledger.promo.withUnsafeBufferPointer { promoFlag in
                    ledger.channel.withUnsafeBufferPointer { channelIndex in
                      ledger.category.withUnsafeBufferPointer { category in
                        ledger.customerStart.withUnsafeBufferPointer { start in
                          medians.withUnsafeBufferPointer { medians in
                            Parallel.forEachChunk(
                              count: c, chunkCount: Parallel.chunkCount(customers: c, rows: amount.count)
                            ) { _, range in
                              // Scratch per chunk: the last customer that bought each
                              // category; purchases per channel of the current
                              // customer and the channels it used (to reset them).
                              let seenCategory = UnsafeMutableBufferPointer<Int32>.allocate(capacity: categoryCount)
                              seenCategory.initialize(repeating: -1)
                              let channelTally = UnsafeMutableBufferPointer<Int32>.allocate(capacity: channelCount)
                              channelTally.initialize(repeating: 0)
                              let touchedChannels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: channelCount)
                              defer {
                                seenCategory.deallocate()
                                channelTally.deallocate()
                                touchedChannels.deallocate()
                              }
                              // k < c: the five buffers are not empty, their base addresses exist.
                              for k in range {
                                var purchases = 0, listed = 0, promoKnown = 0, promoYes = 0, premiumCount = 0,
                                  distinct = 0
                                var depth = 0.0
                                var channelKnown = 0, touched = 0
                                for i in start[k]..<start[k + 1] {
                                  let a = amount[i]
                                  guard isPurchase(a) else { continue }
                                  purchases &+= 1
                                  let lp = list[i]
                                  if lp.isFinite && lp > 0 {
                                    listed &+= 1
                                    depth += min(1, max(-1, 1 - a / lp))
                                  }
                                  let pf = promoFlag[i]
                                  if pf >= 0 {
                                    promoKnown &+= 1
                                    if pf == 1 { promoYes &+= 1 }
                                  }
                                  let cat = Int(category[i])
                                  if seenCategory[cat] != Int32(truncatingIfNeeded: k) {
                                    seenCategory[cat] = Int32(truncatingIfNeeded: k)
                                    distinct &+= 1
                                  }
                                  if !medians.isEmpty {
                                    let price = (lp.isFinite && lp > 0) ? lp : a
                                    if price > medians[cat] { premiumCount &+= 1 }
                                  }
                                  let ch = Int(channelIndex[i])
                                  if ch >= 0 && ch < channelCount {
                                    if channelTally[ch] == 0 {
                                      touchedChannels[touched] = Int32(ch)
                                      touched &+= 1
                                    }
                                    channelTally[ch] &+= 1
                                    channelKnown &+= 1
                                  }
                                }
                                (discount.baseAddress! + k).initialize(to: listed > 0 ? depth / Double(listed) : .nan)
                                (promo.baseAddress! + k).initialize(
                                  to: promoKnown > 0 ? Double(promoYes) / Double(promoKnown) : .nan)
                                (premium.baseAddress! + k).initialize(
                                  to: purchases > 0 ? Double(premiumCount) / Double(purchases) : 0)
                                (breadth.baseAddress! + k).initialize(to: Double(distinct))
                                var top: Int32 = 0
                                for t in 0..<touched {
                                  let ch = Int(touchedChannels[t])
                                  top = max(top, channelTally[ch])
                                  channelTally[ch] = 0
                                }
                                (channel.baseAddress! + k).initialize(
                                  to: channelKnown > 0 ? Double(top) / Double(channelKnown) : .nan)
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
              channelDone = c
            }
            breadthDone = c
          }
          premiumDone = c
        }
        promoDone = c
      }
      discountDone = c
    }
    self.init(
      discountDepth: discount, promoShare: promo, premiumShare: premium, breadth: breadth, channelShare: channel)
  }

  /// `count` customers without a known value (NaN; premium share and
  /// breadth 0), for shards' features to be put in (`place`).
  init(customers count: Int) {
    let unknown = [Double](repeating: .nan, count: count), zero = [Double](repeating: 0, count: count)
    self.init(discountDepth: unknown, promoShare: unknown, premiumShare: zero, breadth: zero, channelShare: unknown)
  }

  /// Puts the features of shard `k`'s customers at their places in the
  /// whole population (`order`).
  mutating func place(_ part: TierCustomerFeatures, shard k: Int, order: CustomerOrder) {
    order.place(part.discountDepth, shard: k, into: &discountDepth)
    order.place(part.promoShare, shard: k, into: &promoShare)
    order.place(part.premiumShare, shard: k, into: &premiumShare)
    order.place(part.breadth, shard: k, into: &breadth)
    order.place(part.channelShare, shard: k, into: &channelShare)
  }
}
