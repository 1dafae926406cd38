import Foundation

/// How the shards of one chain fit together into the input one `koi score`
/// would read: the names (treatments, channels, stores) and customers in
/// order of first appearance over all shards, each shard's indices mapped
/// to those, the as-of day, and the shards' counts and rejects merged.
/// Built from the shards' headers and customer lists alone: their row
/// columns may be absent (`ShardStatistics.read(path:rows: false)`).
struct ShardLayout {
  /// Names in single-run order, and per shard its index → single-run index.
  struct Names {
    var names: [String]
    var maps: [[Int32]]
  }

  /// The shards' paths, for messages.
  var location: SourceLocation
  /// The first shard with a header, and its path.
  var first: (header: ShardStatistics.Header, path: String)
  var columns: Ledger.OptionalColumns
  var categories: Names
  var channels: Names
  var stores: Names
  /// Customers in single-run order.
  var order: CustomerOrder
  var asOfDay: Int32
  var counts = RowCounts()
  var rejects: [Reject] = []
  /// The shards' checksums and sizes (the merged input's).
  private var shas: [String]
  private var bytes: Int64

  /// - Throws: `IngestError` when the shards disagree (versions, columns,
  ///   as-of) or share a customer, or have no rows at all.
  init(_ shards: [ShardStatistics], asOfDay: Int32?) throws {
    location = SourceLocation(path: shards.map(\.path).joined(separator: " "))
    guard let first = shards.first(where: { !$0.header.header.isEmpty }).map({ (header: $0.header, path: $0.path) })
    else {
      throw IngestError(.empty, "every shard is empty; they need a header line and at least one row.", at: location)
    }
    self.first = first
    for s in shards
    where !s.header.header.isEmpty
      && (s.header.header != first.header.header || s.header.columnOverrides != first.header.columnOverrides)
    {
      throw IngestError(
        .mismatchedColumns,
        "its header differs from \(first.path)'s; every shard must be a part of one input with one header.",
        at: SourceLocation(path: s.path))
    }
    let withRows = shards.filter { !$0.header.header.isEmpty && $0.rows > 0 }.map { (header: $0.header, path: $0.path) }
    for s in withRows where s.header.columns != withRows[0].header.columns {
      throw IngestError(
        .mismatchedColumns, "its optional columns differ from \(withRows[0].path)'s.", at: SourceLocation(path: s.path))
    }
    columns = withRows.first?.header.columns ?? .init()
    let shardAsOf = Set(shards.map(\.header.asOf))
    guard shardAsOf.count == 1 else {
      throw IngestError(
        .badModel,
        "the shards were read with different --as-of dates (\(shardAsOf.map { $0 ?? "none" }.sorted().joined(separator: ", "))); give every koi stats the same --as-of.",
        at: location)
    }
    let statsAsOf = shardAsOf.first!.flatMap(DayNumber.parse)  // one element, checked above
    if let asOfDay, asOfDay != statsAsOf {
      throw IngestError(
        .badModel,
        "--as-of \(DayNumber.format(asOfDay)) differs from the shards' (\(statsAsOf.map(DayNumber.format) ?? "none")); give --as-of to koi stats, which applies it to the rows.",
        at: location)
    }

    // Names in order of first appearance over all shards.
    func union(_ names: (ShardStatistics) -> [String], _ lines: (ShardStatistics) -> [Int]) -> Names {
      var firstLine: [String: (Int, Int, Int)] = [:]
      for (k, s) in shards.enumerated() {
        for (j, (n, l)) in zip(names(s), lines(s)).enumerated() {
          let key = (l, k, j)
          if let old = firstLine[n], old <= key { continue }
          firstLine[n] = key
        }
      }
      let ordered = firstLine.sorted { $0.value < $1.value }.map(\.key)
      var index: [String: Int32] = [:]
      for (i, n) in ordered.enumerated() { index[n] = Int32(i) }
      return Names(names: ordered, maps: shards.map { s in names(s).map { index[$0]! } })  // every name is in `index`
    }
    categories = union({ $0.ledger.categories }, { $0.header.categoryFirstLines })
    channels = union({ $0.ledger.channels }, { $0.header.channelFirstLines })
    stores = union({ $0.ledger.stores }, { $0.header.storeFirstLines })

    // Customers in order of first appearance; each in exactly one shard.
    var seen: [String: Int] = [:]
    for (k, s) in shards.enumerated() {
      for id in s.ledger.customerIDs {
        if let other = seen.updateValue(k, forKey: id) {
          throw IngestError(
            .badModel,
            "customer '\(UserText.excerpt(id))' is in shards \(shards[other].path) and \(s.path); split the input by customer (every row of a customer in one shard).",
            at: location)
        }
      }
    }
    seen = [:]
    order = CustomerOrder(firstLines: shards.map(\.customerFirstLines))

    for s in shards {
      counts.read += s.header.counts.read
      counts.used += s.header.counts.used
      counts.rejected += s.header.counts.rejected
      counts.blankLines += s.header.counts.blankLines
      for (k, v) in s.header.counts.rejectedByReason { counts.rejectedByReason[k, default: 0] += v }
      rejects += s.header.rejects.map {
        Reject(line: $0.line, reason: $0.reason, field: $0.field, detail: $0.detail, raw: $0.raw)
      }
    }
    rejects.sort { $0.line < $1.line }
    guard shards.contains(where: { $0.rows > 0 }) else {
      throw TransactionReader.noUsableRows(counts: counts, first: rejects.first, location: location, several: true)
    }
    let lastDay = shards.compactMap { $0.header.lastDay.flatMap(DayNumber.parse) }.max() ?? 0  // rows checked above
    self.asOfDay = statsAsOf ?? (lastDay + 1)
    shas = shards.map(\.header.sha256)
    bytes = shards.reduce(Int64(0)) { $0 + $1.header.bytes }
  }

  /// Shard `k`'s ledger with its treatment, channel and store indices and
  /// names made the single run's: what a shard's share of every
  /// per-customer computation reads.
  func globalized(_ ledger: consuming Ledger, shard k: Int) -> Ledger {
    var l = consume ledger
    let c = categories.maps[k], ch = channels.maps[k], st = stores.maps[k]
    for i in l.category.indices { l.category[i] = c[Int(l.category[i])] }
    for i in l.channel.indices where l.channel[i] >= 0 { l.channel[i] = ch[Int(l.channel[i])] }
    for i in l.store.indices where l.store[i] >= 0 { l.store[i] = st[Int(l.store[i])] }
    l.categories = categories.names
    l.channels = channels.names
    l.stores = stores.names
    return l
  }

  /// The ingest result of one `koi score` of the shards' union, whose rows
  /// in single-run order are `ledger`.
  func ingestResult(ledger: Ledger) throws -> IngestResult {
    let mapping = try ColumnMapping(
      header: first.header.header, overrides: first.header.columnOverrides, path: first.path)
    let encoding = InputEncoding(rawValue: first.header.encoding) ?? .utf8
    let sha = SHA256Hex.of(Array(shas.map { $0 + "\n" }.joined().utf8))
    var columns: [String: String] = [:]
    for (c, i) in mapping.index { columns[c.rawValue] = mapping.header[i] }
    var file = IngestedFile(
      path: location.path, sheet: nil, format: .csv, bytes: bytes, sha256: sha, encoding: encoding,
      encodingDetected: first.header.encodingDetected, columns: columns)
    file.rows = .init(
      read: counts.read, used: counts.used, rejected: counts.rejected, blankLines: counts.blankLines)
    return IngestResult(
      ledger: ledger, rejects: rejects, counts: counts, mapping: mapping, encoding: encoding,
      encodingDetected: first.header.encodingDetected, sha256: sha, bytes: bytes,
      asOfDay: asOfDay, files: [file])
  }
}

/// The customers of every shard in single-run order (first appearance):
/// customer `c` of the whole is customer `index(c)` of shard `shard(c)`.
/// Ties on a line (it cannot happen within one input) go to the lower
/// shard, then the lower index.
struct CustomerOrder: Sendable {
  private var shards: [Int32]
  private var local: [Int32]
  /// Per shard, its customers' positions in the whole.
  private(set) var positions: [[Int32]]

  init(firstLines: [[Int]]) {
    var order: [(line: Int, shard: Int32, customer: Int32)] = []
    order.reserveCapacity(firstLines.reduce(0) { $0 + $1.count })
    for (k, lines) in firstLines.enumerated() {
      for (c, line) in lines.enumerated() { order.append((line, Int32(k), Int32(c))) }
    }
    order.sort { ($0.line, $0.shard, $0.customer) < ($1.line, $1.shard, $1.customer) }
    shards = order.map(\.shard)
    local = order.map(\.customer)
    positions = firstLines.map { [Int32](repeating: 0, count: $0.count) }
    for (c, o) in order.enumerated() { positions[Int(o.shard)][Int(o.customer)] = Int32(c) }
  }

  var count: Int { shards.count }
  var indices: Range<Int> { 0..<count }
  func shard(_ c: Int) -> Int { Int(shards[c]) }
  func index(_ c: Int) -> Int { Int(local[c]) }

  /// Per-customer values of every shard, in single-run order.
  func gather<T>(_ parts: [[T]]) -> [T] {
    [T](unsafeUninitializedCapacity: count) { out, n in
      for c in 0..<count { (out.baseAddress! + c).initialize(to: parts[Int(shards[c])][Int(local[c])]) }
      n = count
    }
  }
}
