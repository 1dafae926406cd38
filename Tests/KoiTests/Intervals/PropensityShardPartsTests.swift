import Foundation
import Testing

@testable import Koi

/// The propensity model of a population split by customer into parts
/// (shards): each part's draws, merged, are the whole population's draws
/// bit for bit, and the trees trained on them are the single run's,
/// whatever the number of parts.
@Suite struct PropensityShardPartsTests {
  /// Generated clinic transactions (2,000 customers over three years): enough
  /// positives and negatives in both windows for the trees to train.
  static let whole: (ledger: Ledger, histories: PurchaseHistories, model: IntervalModel) = {
    let dir = TemporaryDirectory()
    var o = GeneratorOptions()
    o.customers = 2000
    o.seed = 17
    // Generation and ingest only fail on an unwritable temporary directory.
    _ = try? TransactionGenerator.generate(o, outputDirectory: dir.path("data"))
    let ledger = (try? TransactionReader.read(path: dir.path("data") + "/transactions.csv"))?.ledger
    let l = ledger ?? Ledger(rows: [])
    let asOf = (l.day.max() ?? 0) + 1
    let histories = PurchaseHistories(ledger: l, asOfDay: asOf)
    let model = IntervalStage.fit(ledger: l, table: CustomerTable(ledger: l, asOfDay: asOf))
    return (l, histories, model)
  }()

  static let plan = RepurchasePropensity.plan(histories: whole.histories, model: whole.model)

  static let wholeDraws = RepurchasePropensity.draw(
    ledger: whole.ledger, histories: whole.histories, globalCustomer: nil, model: whole.model, plan: plan)

  /// The customers `customers` (increasing) of `ledger`, with all their
  /// rows in order and the same category, channel and store lists: what the
  /// driver builds for one shard.
  static func slice(_ ledger: Ledger, customers: [Int32]) -> Ledger {
    var l = ledger
    l.customerIDs = customers.map { ledger.customerIDs[Int($0)] }
    l.customer = []
    l.day = []
    l.category = []
    l.amount = []
    l.listPrice = []
    l.promo = []
    l.channel = []
    l.store = []
    l.customerStart = [0]
    for (local, c) in customers.enumerated() {
      for i in ledger.rows(of: Int(c)) {
        l.customer.append(Int32(local))
        l.day.append(ledger.day[i])
        l.category.append(ledger.category[i])
        l.amount.append(ledger.amount[i])
        l.listPrice.append(ledger.listPrice[i])
        l.promo.append(ledger.promo[i])
        l.channel.append(ledger.channel[i])
        l.store.append(ledger.store[i])
      }
      l.customerStart.append(l.day.count)
    }
    return l
  }

  /// The whole population's draws merged from `parts` parts, customers
  /// assigned by a hash of their index (so the parts interleave).
  static func partDraws(_ parts: Int, plan: RepurchasePropensity.Plan = plan) -> RepurchasePropensity.Draws {
    let n = whole.ledger.customerCount
    var members = [[Int32]](repeating: [], count: parts)
    for c in 0..<n { members[Int((UInt64(c) &* 0xD6E8_FEB8_6659_FD93) >> 33) % parts].append(Int32(c)) }
    let draws = members.map { customers in
      let ledger = slice(whole.ledger, customers: customers)
      return RepurchasePropensity.draw(
        ledger: ledger, histories: PurchaseHistories(ledger: ledger, asOfDay: whole.histories.asOfDay),
        globalCustomer: customers, model: whole.model, plan: plan)
    }
    return RepurchasePropensity.merge(draws)
  }

  /// Where `a` and `b` first differ (nil: bit for bit the same), so that
  /// a failure names a sample instead of printing every row.
  static func difference(_ a: RepurchasePropensity.Draws, _ b: RepurchasePropensity.Draws) -> String? {
    guard a.samples.map(\.count) == b.samples.map(\.count) else { return "origins per window differ" }
    for (w, (x, y)) in zip(a.samples, b.samples).enumerated() {
      for (j, (s, t)) in zip(x, y).enumerated() where s != t {
        return "window \(w) origin \(j): \(s.trainY.count)+\(s.heldY.count) vs \(t.trainY.count)+\(t.heldY.count) rows"
      }
    }
    return nil
  }

  @Test func theDataTrainsBothWindowsAndThePartsInterleave() {
    for w in RepurchasePropensity.windows.indices {
      let samples = Self.wholeDraws.samples[w]
      #expect(samples.count == Self.plan.origins[w].count && !samples.isEmpty)
      let trainY = samples.flatMap(\.trainY)
      let positives = Int(trainY.reduce(0, +))
      #expect(positives >= RepurchasePropensity.minimumClassCount)
      #expect(trainY.count - positives >= RepurchasePropensity.minimumClassCount)
      #expect(!samples.flatMap(\.heldY).isEmpty)
      // Rows in the whole population's pair order: keys increase.
      for s in samples {
        #expect(zip(s.trainKey, s.trainKey.dropFirst()).allSatisfy { $0 < $1 })
        #expect(zip(s.heldKey, s.heldKey.dropFirst()).allSatisfy { $0 < $1 })
      }
    }
  }

  @Test func partDrawsMergeIntoTheWholeDrawsWhateverThePartCount() {
    #expect(Self.difference(Self.partDraws(1), Self.wholeDraws) == nil)
    #expect(Self.difference(Self.partDraws(3), Self.wholeDraws) == nil)
  }

  /// The fixture keeps every row (fewer than `maximumTrainingRows`); with a
  /// threshold keeping about a third, the parts still draw the whole
  /// population's rows: the hash is of the whole population's customer.
  @Test func partsSampleTheWholePopulationsRowsUnderACap() {
    var capped = Self.plan
    capped.keepBelow = capped.keepBelow.map { _ in UInt64(UInt32.max) / 3 }
    let whole = RepurchasePropensity.draw(
      ledger: Self.whole.ledger, histories: Self.whole.histories, globalCustomer: nil, model: Self.whole.model,
      plan: capped)
    let rows = { (d: RepurchasePropensity.Draws) in d.samples.joined().reduce(0) { $0 + $1.trainY.count } }
    #expect(rows(whole) > rows(Self.wholeDraws) / 4 && rows(whole) < rows(Self.wholeDraws) / 2)
    #expect(Self.difference(Self.partDraws(3, plan: capped), whole) == nil)
    #expect(Self.difference(Self.partDraws(1, plan: capped), whole) == nil)
  }

  @Test(arguments: [1, 3]) func trainingOnMergedPartDrawsIsTheSingleRunFit(parts: Int) {
    let single = RepurchasePropensity.fit(
      ledger: Self.whole.ledger, histories: Self.whole.histories, model: Self.whole.model)
    #expect(single.report.windows.contains { $0.chosen == "boosted" })
    let merged = RepurchasePropensity.train(
      plan: Self.plan, draws: Self.partDraws(parts), histories: Self.whole.histories, model: Self.whole.model)
    #expect(merged.trained == single.trained)
    #expect(merged.report == single.report)
  }

  @Test func anEmptyPartAndASinglePartChangeNothing() {
    // A part with no customers draws no rows and changes nothing.
    let none = Self.slice(Self.whole.ledger, customers: [])
    let empty = RepurchasePropensity.draw(
      ledger: none, histories: PurchaseHistories(ledger: none, asOfDay: Self.whole.histories.asOfDay),
      globalCustomer: [], model: Self.whole.model, plan: Self.plan)
    #expect(empty.samples.allSatisfy { $0.allSatisfy { $0.trainKey.isEmpty && $0.heldKey.isEmpty } })
    #expect(Self.difference(RepurchasePropensity.merge([empty, Self.wholeDraws]), Self.wholeDraws) == nil)
    #expect(Self.difference(RepurchasePropensity.merge([Self.wholeDraws]), Self.wholeDraws) == nil)
  }
}
