import Koi

/// The properties every input file must have, whatever its bytes:
///
/// 1. **Typed failure.** A read either returns a result or throws an
///    `IngestError` (never another error, which `koi` reports as an internal
///    error, exit code 1), and an error's line lies within the file.
/// 2. **Block-size independence.** Reading in blocks of a few bytes to a few
///    KiB, in one to four parallel chunks, gives the same outcome as reading
///    the file in one block: the same ledger (customer ids, days, categories,
///    amounts, list prices, promo, channel, store), the same rejects (line,
///    reason, field, detail, raw text), the same counts, mapping, encoding and
///    checksum; or the same error (code, line, field, message). While known
///    finding F2 stands, a read in smaller blocks may stop at an earlier
///    error than a GB18030 decoding error the one-block read stops at, or
///    quote another number of the same undecodable bytes (see
///    `KnownFindings`). (F1 and F3 are fixed.)
/// 3. **Accounting.** `read == used + rejected`, `used` is the ledger's row
///    count, `rejected` the number of rejects and the sum of
///    `rejected_by_reason`; rejects are in line order, each on a line between
///    2 and the file's last line; records and blank lines fit in the lines
///    after the header. The ledger is well formed: customers in contiguous
///    runs sorted by day, each with a purchase; every id in range; days in
///    1970–2199 and before the as-of day; amounts finite; list prices unknown
///    or ≥ 0.
/// 4. **Strict.** With `--strict` a read succeeds only when the plain read
///    (same blocks) has no rejects, and then gives the same result; when the plain read
///    rejects rows, it fails with a `bad_row` error naming the first bad row
///    (the first by line among the rows rejected while parsing; when there
///    are none, the first `no_purchase` row) and its field; when the plain
///    read fails, it fails too: with the same error, or with a `bad_row`
///    error naming a line of the file.
public enum IngestProperties {
  /// Checks every property on one input; stops the process on a violation.
  public static func check(_ bytes: UnsafeBufferPointer<UInt8>) {
    ScratchFile.write(bytes)
    let facts = InputFacts(bytes)
    let one = ReadPlan.oneBlock(size: bytes.count)
    let reference = read(one, strict: false)
    checkOutcome(reference, facts, "\(one)")
    checkStrict(read(one, strict: true), plain: reference, facts, one)

    for (k, plan) in ReadPlan.cutUp(size: bytes.count, salt: facts.byteSum).enumerated() {
      let outcome = read(plan, strict: false)
      checkOutcome(outcome, facts, "\(plan)")
      if k == 0 { checkStrict(read(plan, strict: true), plain: outcome, facts, plan) }
      requireSame(outcome, reference, plan)
    }
  }

  /// Property 2.
  static func requireSame(_ outcome: IngestOutcome, _ oneBlock: IngestOutcome, _ plan: ReadPlan) {
    if outcome != oneBlock && !KnownFindings.tolerates(outcome, oneBlock: oneBlock) {
      violated(
        "block-size independence",
        "reading with \(plan) differs from reading in one block: \(outcome.difference(from: oneBlock))")
    }
  }

  static func read(_ plan: ReadPlan, strict: Bool) -> IngestOutcome {
    IngestOutcome { try TransactionReader.read(path: ScratchFile.path, options: plan.options(strict: strict)) }
  }

  // MARK: - Properties

  /// Properties 1 and 3, for one read.
  static func checkOutcome(_ outcome: IngestOutcome, _ facts: InputFacts, _ how: String) {
    switch outcome {
    case .untyped(let error):
      violated("typed failure", "reading with \(how) threw an error that is not an IngestError: \(error)")
    case .refused(let r):
      if r.line < 0 || r.line > facts.physicalLines {
        violated(
          "typed failure",
          "reading with \(how): the error names line \(r.line), but the file has \(facts.physicalLines) lines: \(r)")
      }
    case .ingested(let s):
      checkAccounting(s, facts, how)
    }
  }

  static func checkAccounting(_ s: IngestSnapshot, _ facts: InputFacts, _ how: String) {
    func require(_ ok: Bool, _ what: @autoclosure () -> String) {
      if !ok { violated("accounting", "reading with \(how): \(what())") }
    }
    let c = s.counts
    let rows = s.customer.count
    require(c.read == c.used + c.rejected, "read \(c.read) != used \(c.used) + rejected \(c.rejected)")
    require(c.used == rows, "used \(c.used) != \(rows) ledger rows")
    require(c.rejected == s.rejects.count, "rejected \(c.rejected) != \(s.rejects.count) rejects listed")
    require(
      c.rejectedByReason.values.reduce(0, +) == c.rejected,
      "rejected_by_reason \(c.rejectedByReason) does not sum to \(c.rejected)")
    var byReason: [String: Int] = [:]
    for r in s.rejects { byReason[r.reason.rawValue, default: 0] += 1 }
    require(
      byReason == c.rejectedByReason, "rejected_by_reason \(c.rejectedByReason) != reasons of the rejects \(byReason)")
    require(
      c.read + c.blankLines <= facts.physicalLines - 1,
      "\(c.read) records and \(c.blankLines) blank lines after the header, in a file of \(facts.physicalLines) lines")
    for (k, r) in s.rejects.enumerated() {
      require(r.line >= 2 && r.line <= facts.physicalLines, "reject \(r) names a line outside 2…\(facts.physicalLines)")
      if k > 0 {
        require(s.rejects[k - 1].line <= r.line, "rejects out of line order: \(s.rejects[k - 1]) before \(r)")
      }
    }

    // The ledger.
    let customers = s.customerIDs.count
    require(rows > 0, "a result with an empty ledger (it should have been refused as no usable rows)")
    for column in [
      s.day.count, s.category.count, s.amountBits.count, s.listPriceBits.count, s.promo.count, s.channel.count,
      s.store.count,
    ] {
      require(column == rows, "a ledger column of \(column) rows, not \(rows)")
    }
    require(
      s.customerStart.count == customers + 1 && s.customerStart.first == 0 && s.customerStart.last == rows,
      "customerStart \(s.customerStart.prefix(20)) does not frame \(customers) customers over \(rows) rows")
    require(
      Set(s.customerIDs).count == customers && !s.customerIDs.contains(""), "customer ids not unique and non-empty")
    require(
      Set(s.categories).count == s.categories.count && !s.categories.contains(""), "categories not unique and non-empty"
    )
    require(
      s.columns
        == Ledger.OptionalColumns(
          listPrice: s.columnIndex["list_price"] != nil, promo: s.columnIndex["promo"] != nil,
          channel: s.columnIndex["channel"] != nil, store: s.columnIndex["store"] != nil),
      "optional columns \(s.columns) do not match the mapping \(s.columnIndex)")
    guard s.customerStart.count == customers + 1, s.day.count == rows else { return }
    for c in 0..<customers {
      let lo = s.customerStart[c], hi = s.customerStart[c + 1]
      require(lo < hi, "customer \(c) has no rows")
      guard lo < hi else { continue }
      var purchase = false
      for i in lo..<hi {
        require(s.customer[i] == Int32(c), "row \(i) in customer \(c)'s run belongs to customer \(s.customer[i])")
        if i > lo { require(s.day[i - 1] <= s.day[i], "customer \(c)'s rows not sorted by day at row \(i)") }
        if Double(bitPattern: s.amountBits[i]) > 0 { purchase = true }
      }
      require(purchase, "customer '\(s.customerIDs[c])' is in the ledger without a purchase")
    }
    for i in 0..<rows {
      let amount = Double(bitPattern: s.amountBits[i]), listPrice = Double(bitPattern: s.listPriceBits[i])
      require(s.day[i] >= 0 && s.day[i] < firstDayOf2200, "row \(i): day \(s.day[i]) outside 1970–2199")
      require(s.day[i] < s.asOfDay, "row \(i): day \(s.day[i]) not before the as-of day \(s.asOfDay)")
      require(amount.isFinite, "row \(i): amount \(amount)")
      require(listPrice.isNaN || (listPrice.isFinite && listPrice >= 0), "row \(i): list price \(listPrice)")
      require(
        (0..<Int32(s.categories.count)).contains(s.category[i]),
        "row \(i): category \(s.category[i]) of \(s.categories.count)")
      require(
        (-1..<Int32(s.channels.count)).contains(s.channel[i]),
        "row \(i): channel \(s.channel[i]) of \(s.channels.count)")
      require((-1..<Int32(s.stores.count)).contains(s.store[i]), "row \(i): store \(s.store[i]) of \(s.stores.count)")
      require((-1...1).contains(s.promo[i]), "row \(i): promo \(s.promo[i])")
    }
  }

  /// Property 4, for one strict read against the plain read of the same plan.
  static func checkStrict(_ strict: IngestOutcome, plain: IngestOutcome, _ facts: InputFacts, _ plan: ReadPlan) {
    let how = "\(plan), strict"
    switch (plain, strict) {
    case (.ingested(let p), _) where p.rejects.isEmpty:
      if strict != plain {
        violated(
          "strict", "the plain read has no rejects, but reading with \(how) differs: \(strict.difference(from: plain))")
      }
    case (.ingested(let p), .refused(let e)):
      let parsed = p.rejects.filter { $0.reason != .noPurchase }
      let first = parsed.first ?? p.rejects[0]  // not empty: the case above takes a read without rejects
      if e.code != "bad_row" || e.line != first.line || e.field != first.field?.rawValue {
        violated("strict", "reading with \(how) should stop at the first bad row, \(first), but stopped with \(e)")
      }
    case (.ingested(let p), _):
      violated(
        "strict",
        "the plain read rejects \(p.rejects.count) rows (first \(p.rejects[0])), but reading with \(how) gave \(strict.summary)"
      )
    case (.refused(let pe), .refused(let e)):
      if e != pe && !(e.code == "bad_row" && e.line >= 2 && e.line <= facts.physicalLines) {
        violated("strict", "the plain read fails with \(pe), but reading with \(how) fails with \(e)")
      }
    case (.refused(let pe), _):
      violated("strict", "the plain read fails with \(pe), but reading with \(how) gave \(strict.summary)")
    case (.untyped, _):
      break  // reported by checkOutcome
    }
  }

  /// Days from 1970-01-01 to 2200-01-01: 230 years, 56 of them leap years.
  static let firstDayOf2200: Int32 = 230 * 365 + 56

  /// Stops the process so libFuzzer saves the input (and removes the
  /// scratch file, which the exit handler would have).
  static func violated(_ property: String, _ what: String) -> Never {
    ScratchFile.remove()
    fatalError("Koi ingest property violated (\(property)): \(what)")
  }
}

/// What the properties need to know about an input, from its bytes alone.
struct InputFacts {
  /// An upper bound on the file's physical lines: every LF and every CR may
  /// end one (CR alone is a line end in a CR-only file).
  var physicalLines: Int
  /// The sum of the bytes, which picks the tiny block size.
  var byteSum: Int

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    var lines = 1, sum = 0
    for b in bytes {
      if b == 10 || b == 13 { lines += 1 }
      sum &+= Int(b)
    }
    physicalLines = lines
    byteSum = sum & Int.max
  }
}
