import Foundation

/// Options of `koi generate`.
public struct GeneratorOptions: Sendable {
  public var customers = 3000
  public var seed: UInt64 = 1
  /// First and last day (inclusive) of the history.
  public var startDay = DayNumber.from(year: 2023, month: 1, day: 1)
  public var endDay = DayNumber.from(year: 2025, month: 12, day: 31)
  /// Chinese headers, item, channel and store names, and the date and amount
  /// forms of a Chinese Excel export.
  public var chineseHeaders = false
  /// `.utf8` or `.gb18030`.
  public var encoding: InputEncoding = .utf8
  /// Share of rows (never a customer's first purchase) replaced by a bad
  /// version of themselves; each is listed in bad_rows.csv.
  public var badRowFraction = 0.0
  public var stores = 6

  public init() {}
}

/// What `koi generate` wrote.
public struct GeneratorSummary: Sendable, Codable {
  public var customers: Int
  public var rows: Int
  public var badRows: Int
  public var bytes: Int64
  public var seed: UInt64
}

/// A seeded, streaming generator of clinic transactions with ground truth.
///
/// Each customer is simulated from its own random stream (seed, customer
/// index), so the output does not depend on block size or thread count:
///
/// - a price-sensitivity tier (shares 20/15/40/25%) that sets breadth,
///   promotion use, discount depth, premium choice, channels and dropout;
/// - an acquisition day, skewed towards later days (a growing pool);
/// - treatments taken up one after another; for each repeating one a
///   personal cycle `c · exp(0.15 Z)` around the category cycle `c`, and gaps
///   `cycle · Gamma(6)/6` (coefficient of variation 0.41); one-off
///   treatments (surgery, implants) once;
/// - after each purchase, dropout with the tier's probability (the day of
///   that last purchase is the dropout day in truth.csv);
/// - 1.5% of purchases refunded in full 1–14 days later (a negative row).
///
/// Customers are generated in blocks of 4,096 whose rows are written sorted
/// by time, so memory stays bounded whatever the size.
///
/// - Complexity: O(rows); memory O(block).
public enum TransactionGenerator {
  static let blockSize = 4096

  struct Row {
    var day: Int32
    var minute: Int16
    var customer: Int32
    var category: Int8
    var channel: Int8
    var store: Int8
    var promo: Bool
    var first: Bool
    var amount: Double
    var listPrice: Double
  }

  struct Truth {
    var tier: Int
    var acquired: Int32
    var dropoutDay: Int32?
    var cycles: [Double?]
    var purchases: Int
  }

  public static func generate(
    _ options: GeneratorOptions, outputDirectory: String,
    progress: (_ customersDone: Int, _ total: Int) -> Void = { _, _ in }
  ) throws -> GeneratorSummary {
    precondition(options.endDay > options.startDay, "the date range is empty")
    try OutputDirectory.prepare(outputDirectory)
    let dir = URL(fileURLWithPath: outputDirectory)
    let transactions = try AtomicFile(path: dir.appendingPathComponent("transactions.csv").path)
    let truth = try AtomicFile(path: dir.appendingPathComponent("truth.csv").path)
    let badRows = try AtomicFile(path: dir.appendingPathComponent("bad_rows.csv").path)
    let encoder = options.encoding == .gb18030 ? try GB18030Converter(encoding: true) : nil
    func emit(_ bytes: [UInt8]) throws {
      if let encoder {
        let (out, _, invalid) = encoder.convert(bytes)
        precondition(invalid == nil, "generated text is always encodable in GB18030")
        try transactions.write(out)
      } else {
        try transactions.write(bytes)
      }
    }

    let zh = options.chineseHeaders
    let header =
      zh
      ? "客户编号,消费日期,项目,实收金额,原价,是否活动,渠道,门店\n"
      : "customer_id,date,item,amount,list_price,promo,channel,store\n"
    try emit(Array(header.utf8))
    let catalog = TreatmentCategory.catalog
    let repeating = catalog.filter { $0.cycleDays != nil }
    try truth.write(
      "customer_id,tier,tier_name,acquired,dropout_date,purchases,"
        + repeating.map { "cycle_\($0.id)" }.joined(separator: ",") + ",one_off\n")
    try badRows.write("line,reason,customer_id\n")

    var line = 1
    var rowCount = 0
    var badCount = 0
    var bytes = Int64(header.utf8.count)
    var corruption = SeededGenerator(seed: options.seed, stream: 0xBAD0_0000_0000)
    var start = 0
    while start < options.customers {
      let end = min(options.customers, start + blockSize)
      let parts = max(1, min(Parallel.coreCount, (end - start) / 256))
      var rowsByPart = [[Row]](repeating: [], count: parts)
      var truthByPart = [[Truth]](repeating: [], count: parts)
      rowsByPart.withUnsafeMutableBufferPointer { rowsOut in
        truthByPart.withUnsafeMutableBufferPointer { truthOut in
          Parallel.forEachChunk(count: end - start, chunkCount: parts) { p, range in
            var rows: [Row] = []
            var truths: [Truth] = []
            for i in range {
              truths.append(simulate(customer: start + i, options: options, into: &rows))
            }
            rowsOut[p] = rows
            truthOut[p] = truths
          }
        }
      }
      var rows = rowsByPart.flatMap { $0 }
      rows.sort { ($0.day, $0.minute, $0.customer) < ($1.day, $1.minute, $1.customer) }
      var text = [UInt8]()
      text.reserveCapacity(rows.count * 72)
      var badText = [UInt8]()
      for r in rows {
        line += 1
        var kind: RejectReason?
        if options.badRowFraction > 0 && !r.first && corruption.uniform() < options.badRowFraction {
          let kinds: [RejectReason] = [
            .badDate, .badAmount, .missingCustomerID, .wrongFieldCount, .missingItem, .badPromo,
          ]
          kind = kinds[Int(corruption.next() % UInt64(kinds.count))]
          // Kind set just above.
          badText.append(contentsOf: "\(line),\(kind!.rawValue),\(customerID(Int(r.customer), zh: zh))\n".utf8)
          badCount += 1
        }
        format(r, zh: zh, corrupt: kind, into: &text)
      }
      rowCount += rows.count
      bytes += Int64(text.count)
      try emit(text)
      if !badText.isEmpty { try badRows.write(badText) }
      var truthText = ""
      for (k, t) in truthByPart.flatMap({ $0 }).enumerated() {
        let c = start + k
        let tierName = TierBehaviour.all[t.tier - 1].name
        let cycles = catalog.indices.filter { catalog[$0].cycleDays != nil }
          .map { t.cycles[$0].map { String(format: "%.1f", $0) } ?? "" }
        let oneOffs = catalog.indices.filter { catalog[$0].cycleDays == nil && t.cycles[$0] != nil }
          .map { catalog[$0].id }.joined(separator: ";")
        truthText +=
          "\(customerID(c, zh: zh)),\(t.tier),\(tierName),\(DayNumber.format(t.acquired)),"
          + "\(t.dropoutDay.map(DayNumber.format) ?? ""),\(t.purchases),"
          + cycles.joined(separator: ",") + ",\(oneOffs)\n"
      }
      try truth.write(truthText)
      progress(end, options.customers)
      start = end
    }
    try transactions.commit()
    try truth.commit()
    try badRows.commit()
    return GeneratorSummary(
      customers: options.customers, rows: rowCount, badRows: badCount, bytes: bytes, seed: options.seed)
  }

  static func customerID(_ c: Int, zh: Bool) -> String {
    let digits = String(c + 1)
    return zh
      ? "KH" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
      : "C" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits
  }

  static func pick(_ weights: [Double], _ rng: inout SeededGenerator) -> Int {
    let total = weights.reduce(0, +)
    var u = rng.uniform() * total
    for (i, w) in weights.enumerated() {
      if u < w { return i }
      u -= w
    }
    return weights.count - 1
  }

  /// Simulates one customer's history, appending its rows.
  static func simulate(customer c: Int, options: GeneratorOptions, into rows: inout [Row]) -> Truth {
    var rng = SeededGenerator(seed: options.seed, stream: UInt64(c))
    let catalog = TreatmentCategory.catalog
    let behaviour = TierBehaviour.all[pick(TierBehaviour.all.map(\.share), &rng)]
    let span = Double(options.endDay - options.startDay)
    let acquired = options.startDay + Int32(span * rng.uniform().squareRoot())
    let breadth = min(
      catalog.count,
      behaviour.breadth.lowerBound
        + Int(rng.next() % UInt64(behaviour.breadth.count)))
    var weights = catalog.map(\.popularity)
    var next = [Int32](repeating: .max, count: catalog.count)
    var cycles = [Double?](repeating: nil, count: catalog.count)
    for k in 0..<breadth {
      let j = pick(weights, &rng)
      weights[j] = 0
      next[j] = acquired + (k == 0 ? 0 : Int32(30 + rng.uniform() * 370))
      cycles[j] = catalog[j].cycleDays.map { $0 * Double.exp(0.15 * rng.normal()) } ?? 0
    }
    let homeStore = Int8(rng.next() % UInt64(options.stores))
    var purchases = 0
    var dropout: Int32? = nil
    while true {
      guard let j = next.indices.min(by: { next[$0] < next[$1] }), next[j] <= options.endDay else { break }
      let day = next[j]
      let category = catalog[j]
      let premium = rng.uniform() < behaviour.premiumProbability
      let u = premium ? 0.5 + 0.5 * rng.uniform() : 0.5 * rng.uniform()
      let list =
        ((category.listPrice.lowerBound + u * (category.listPrice.upperBound - category.listPrice.lowerBound)) / 10)
        .rounded() * 10
      let promo = rng.uniform() < behaviour.promoProbability
      let discount =
        promo
        ? min(0.7, max(0.05, behaviour.promoDiscount * (0.6 + 0.8 * rng.uniform())))
        : (rng.uniform() < 0.2 ? 0.05 * rng.uniform() : 0)
      let paid = (list * (1 - discount)).rounded()
      let channel = Int8(pick(behaviour.channelWeights, &rng))
      let store = rng.uniform() < 0.9 ? homeStore : Int8(rng.next() % UInt64(options.stores))
      let minute = Int16(9 * 60 + Int(rng.next() % (12 * 60)))
      rows.append(
        Row(
          day: day, minute: minute, customer: Int32(c), category: Int8(j), channel: channel,
          store: store, promo: promo, first: purchases == 0, amount: paid, listPrice: list))
      purchases += 1
      if rng.uniform() < 0.015 {
        let refundDay = day + 1 + Int32(rng.next() % 14)
        if refundDay <= options.endDay {
          rows.append(
            Row(
              day: refundDay, minute: minute, customer: Int32(c), category: Int8(j), channel: channel,
              store: store, promo: promo, first: false, amount: -paid, listPrice: list))
        }
      }
      if let cycle = cycles[j], category.cycleDays != nil {
        next[j] = day + Int32(max(1, (cycle * rng.gamma(shape: 6) / 6).rounded()))
      } else {
        next[j] = .max
      }
      if rng.uniform() < behaviour.dropoutProbability {
        dropout = day
        break
      }
    }
    for j in catalog.indices where catalog[j].cycleDays == nil && cycles[j] != nil && next[j] != .max {
      cycles[j] = nil  // a one-off never reached before the end or dropout
    }
    return Truth(tier: behaviour.tier, acquired: acquired, dropoutDay: dropout, cycles: cycles, purchases: purchases)
  }

  /// Appends one CSV line for `r`, optionally corrupted in the way `corrupt`
  /// names.
  static func format(_ r: Row, zh: Bool, corrupt: RejectReason?, into out: inout [UInt8]) {
    func put(_ s: String) { out.append(contentsOf: s.utf8) }
    func two(_ v: Int) { out.append(48 + UInt8(v / 10)); out.append(48 + UInt8(v % 10)) }
    let category = TreatmentCategory.catalog[Int(r.category)]
    if corrupt != .missingCustomerID { put(customerID(Int(r.customer), zh: zh)) }
    out.append(44)
    if corrupt == .badDate {
      put(zh ? "2024/2/30" : "2024-02-30")
    } else {
      let (y, m, d) = DayNumber.civil(r.day)
      put(String(y))
      if zh {
        put("/\(m)/\(d) ")
      } else {
        out.append(45); two(m); out.append(45); two(d); out.append(32)
      }
      two(Int(r.minute) / 60); out.append(58); two(Int(r.minute) % 60)
    }
    out.append(44)
    if corrupt != .missingItem { put(zh ? category.chineseName : category.id) }
    out.append(44)
    if corrupt == .badAmount {
      put("12O0")
    } else if zh && r.customer % 10 == 3 && r.amount >= 1000 {
      // Some Chinese exports format money: "¥1,280.00", quoted for the comma.
      let whole = Int(abs(r.amount))
      put(r.amount < 0 ? "\"-¥" : "\"¥")
      put(String(whole / 1000)); out.append(44)
      let rest = whole % 1000
      out.append(48 + UInt8(rest / 100)); two(rest % 100)
      put(".00\"")
    } else {
      put(String(Int(r.amount))); put(".00")
    }
    out.append(44)
    put(String(Int(r.listPrice)))
    out.append(44)
    if corrupt == .badPromo { put("maybe") } else { put(zh ? (r.promo ? "是" : "否") : (r.promo ? "1" : "0")) }
    out.append(44)
    put(zh ? TierBehaviour.chineseChannels[Int(r.channel)] : TierBehaviour.channels[Int(r.channel)])
    if corrupt != .wrongFieldCount {
      out.append(44)
      put(zh ? "门店" : "store_"); two(Int(r.store) + 1)
    }
    out.append(10)
  }
}
