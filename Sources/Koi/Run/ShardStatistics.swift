import Foundation
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// The exact statistics of one shard of a chain's transactions, as
/// `koi stats` writes them and `koi fit` / `koi merge` read them: the
/// shard's validated rows (the tier and interval fits need every row of a
/// customer, so for them the rows are the statistics), the line where each
/// customer, treatment, channel and store first appears (which puts shards
/// back in single-run order), the shard's rejects by original line, and its
/// row counts.
///
/// File format, version 1 (little-endian throughout):
///
/// ```
/// "KOISTATS"                     8 bytes, magic
/// format version                 UInt32 (1)
/// header length h                UInt64
/// header                         h bytes of JSON (`Header`, snake_case keys)
/// customer ids                   per customer: UInt32 byte count, UTF-8 bytes
/// customer first lines           Int64 × customers
/// customer row offsets           Int64 × (customers + 1)
/// day, category                  Int32 × rows each
/// amount, list price             Float64 × rows each (list price NaN: unknown)
/// promo                          Int8 × rows (-1 unknown)
/// channel, store                 Int32 × rows each (-1 unknown)
/// ```
///
/// Rows are in the shard's ledger order: by customer (first appearance),
/// then day, then input order. Category, channel and store values index the
/// header's shard-local name lists.
public struct ShardStatistics: Sendable {
  public static let formatVersion: UInt32 = 1
  static let magic = Array("KOISTATS".utf8)

  /// The JSON part of the file.
  struct Header: Codable, Sendable {
    var koiVersion: String
    var formatVersion: Int
    /// `--as-of` as given to `koi stats`, `YYYY-MM-DD`; nil: derived from
    /// the data (the day after the last used row of all shards).
    var asOf: String?
    /// The last used day of this shard (`YYYY-MM-DD`), nil when it has no rows.
    var lastDay: String?
    var columns: Ledger.OptionalColumns
    /// The input's header cells and the `--column` overrides that mapped them.
    var header: [String]
    var columnOverrides: [String: String]
    var input: String
    var bytes: Int64
    var sha256: String
    var encoding: String
    var encodingDetected: Bool
    var counts: RowCounts
    var rejects: [RejectRecord]
    var customers: Int
    var rows: Int
    var categories: [String]
    var categoryFirstLines: [Int]
    var channels: [String]
    var channelFirstLines: [Int]
    var stores: [String]
    var storeFirstLines: [Int]
  }

  /// A reject as the header stores it.
  struct RejectRecord: Codable, Sendable {
    var line: Int
    var reason: RejectReason
    var field: CanonicalColumn?
    var detail: String
    var raw: String
  }

  var header: Header
  var ledger: Ledger
  var customerFirstLines: [Int]
  /// Where the statistics were read from (messages).
  var path = ""

  /// The number of customers and rows of the shard.
  public var customers: Int { ledger.customerCount }
  public var rows: Int { header.rows }

  /// The statistics of an ingested shard (read with
  /// `IngestOptions.recordsFirstLines`).
  init(ingest: IngestResult, options: IngestOptions, input: String) {
    let l = ingest.ledger
    let f = ingest.firstLines ?? FirstLines()
    precondition(f.customer.count == l.customerCount, "first lines of every customer")
    header = Header(
      koiVersion: Koi.version, formatVersion: Int(Self.formatVersion),
      asOf: options.asOfDay.map(DayNumber.format), lastDay: l.day.max().map(DayNumber.format),
      columns: l.columns, header: ingest.mapping.header, columnOverrides: options.columnOverrides,
      input: input, bytes: ingest.bytes, sha256: ingest.sha256, encoding: ingest.encoding.rawValue,
      encodingDetected: ingest.encodingDetected, counts: ingest.counts,
      rejects: ingest.rejects.map {
        RejectRecord(line: $0.line, reason: $0.reason, field: $0.field, detail: $0.detail, raw: $0.raw)
      },
      customers: l.customerCount, rows: l.rowCount,
      categories: l.categories, categoryFirstLines: Self.padded(f.category, l.categories.count),
      channels: l.channels, channelFirstLines: Self.padded(f.channel, l.channels.count),
      stores: l.stores, storeFirstLines: Self.padded(f.store, l.stores.count))
    ledger = l
    customerFirstLines = f.customer
  }

  /// Names interned only by rejected rows have no used row: they sort last.
  private static func padded(_ lines: [Int], _ count: Int) -> [Int] {
    lines.count >= count ? Array(lines.prefix(count)) : lines + Array(repeating: Int.max, count: count - lines.count)
  }

  /// A shard with no rows (a Spark partition can be empty).
  static func empty(input: String, options: IngestOptions) -> ShardStatistics {
    ShardStatistics(
      header: Header(
        koiVersion: Koi.version, formatVersion: Int(formatVersion), asOf: options.asOfDay.map(DayNumber.format),
        lastDay: nil, columns: .init(), header: [], columnOverrides: options.columnOverrides, input: input, bytes: 0,
        sha256: "", encoding: InputEncoding.utf8.rawValue, encodingDetected: false, counts: RowCounts(), rejects: [],
        customers: 0, rows: 0, categories: [], categoryFirstLines: [], channels: [], channelFirstLines: [], stores: [],
        storeFirstLines: []),
      ledger: Ledger(empty: .init()), customerFirstLines: [])
  }

  private init(header: Header, ledger: Ledger, customerFirstLines: [Int]) {
    self.header = header
    self.ledger = ledger
    self.customerFirstLines = customerFirstLines
  }

  // MARK: - File

  /// Hands the file's bytes to `sink` in order, the row columns without a
  /// copy.
  private func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
    var front = Self.magic
    func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { front += $0 } }
    let json = try JSONEncoder.koiCompact.encode(header)
    put(Self.formatVersion)
    put(UInt64(json.count))
    front += json
    for id in ledger.customerIDs {
      let b = Array(id.utf8)
      put(UInt32(b.count))
      front += b
    }
    try front.withUnsafeBytes(sink)
    try customerFirstLines.map { Int64($0) }.withUnsafeBytes(sink)
    try ledger.customerStart.map { Int64($0) }.withUnsafeBytes(sink)
    try ledger.day.withUnsafeBytes(sink)
    try ledger.category.withUnsafeBytes(sink)
    try ledger.amount.withUnsafeBytes(sink)
    try ledger.listPrice.withUnsafeBytes(sink)
    try ledger.promo.withUnsafeBytes(sink)
    try ledger.channel.withUnsafeBytes(sink)
    try ledger.store.withUnsafeBytes(sink)
  }

  /// The file's bytes.
  func encoded() throws -> [UInt8] {
    var out: [UInt8] = []
    try emit { out += $0 }
    return out
  }

  /// Writes the statistics to `path` atomically, streamed (no copy of the
  /// file in memory).
  public func write(to path: String) throws {
    let file = try AtomicFile(path: path)
    try emit { try file.write($0) }
    try file.commit()
  }

  /// Reads statistics written by `koi stats`; without `rows`, only the
  /// header, the customers and their row offsets (the row columns are left
  /// empty; the file is still checked whole).
  ///
  /// - Throws: `IngestError` (`.fileNotFound`, `.badModel`) naming the file.
  public static func read(path: String, rows: Bool = true) throws -> ShardStatistics {
    let at = SourceLocation(path: path)
    var file = try ShardFileReader(path: path, at: at)
    defer { file.close() }
    var s = try decode(&file, rows: rows, at: at)
    s.path = path
    return s
  }

  private static func decode(_ file: inout ShardFileReader, rows: Bool, at: SourceLocation) throws -> ShardStatistics {
    func bad(_ what: String) -> IngestError {
      IngestError(.badModel, "not Koi shard statistics (\(what)); give files written by koi stats.", at: at)
    }
    /// `body` of the next `n` bytes (in the reader's buffer, no copy).
    func take<R>(_ n: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
      guard n >= 0, let r = try file.withBytes(n, body) else { throw bad("cut short") }
      return r
    }
    func int<T: FixedWidthInteger>(_: T.Type) throws -> T {
      T(littleEndian: try take(MemoryLayout<T>.size) { $0.loadUnaligned(as: T.self) })
    }
    func array<T>(_: T.Type, _ n: Int) throws -> [T] {
      guard let a = try file.array(T.self, n) else { throw bad("cut short") }
      return a
    }
    guard try take(magic.count, { $0.elementsEqual(magic) }) else { throw bad("no KOISTATS magic") }
    let version = try int(UInt32.self)
    guard version == formatVersion else {
      throw IngestError(
        .badModel,
        "shard statistics format \(version); this Koi (\(Koi.version)) reads format \(formatVersion): run koi stats again with this Koi.",
        at: at)
    }
    let h = try int(UInt64.self)
    guard h < UInt64(file.size) else { throw bad("cut short") }
    let header: Header
    do {
      header = try JSONDecoder.koi.decode(Header.self, from: try take(Int(h)) { Data($0) })
    } catch let e as IngestError {
      throw e
    } catch {
      throw bad("\(error)")
    }
    guard header.koiVersion == Koi.version else {
      throw IngestError(
        .badModel,
        "the shard statistics were written by Koi \(header.koiVersion); this is Koi \(Koi.version): run koi stats, fit and score with one Koi version.",
        at: at)
    }
    let c = header.customers, n = header.rows
    // Every customer and row takes bytes: counts beyond the file's size are damage.
    guard c >= 0, n >= 0, c <= file.size, n <= file.size else { throw bad("impossible counts") }
    var ids: [String] = []
    ids.reserveCapacity(c)
    for _ in 0..<c {
      let len = Int(try int(UInt32.self))
      ids.append(try take(len) { String(decoding: $0, as: UTF8.self) })
    }
    let first = try array(Int64.self, c).map { Int($0) }
    let start = try array(Int64.self, c + 1).map { Int($0) }
    guard start.first == 0, start.last == n, zip(start, start.dropFirst()).allSatisfy({ $0 <= $1 }) else {
      throw bad("bad row offsets")
    }
    guard rows else {
      // day, category, amount, list price, promo, channel, store
      let columns = n * (4 + 4 + 8 + 8 + 1 + 4 + 4)
      guard file.position + columns <= file.size else { throw bad("cut short") }
      guard file.position + columns == file.size else { throw bad("trailing bytes") }
      var ledger = Ledger(empty: header.columns)
      ledger.customerIDs = ids
      ledger.categories = header.categories
      ledger.channels = header.channels
      ledger.stores = header.stores
      ledger.customerStart = start
      return ShardStatistics(header: header, ledger: ledger, customerFirstLines: first)
    }
    let day = try array(Int32.self, n)
    let category = try array(Int32.self, n)
    let amount = try array(Double.self, n)
    let listPrice = try array(Double.self, n)
    let promo = try array(Int8.self, n)
    let channel = try array(Int32.self, n)
    let store = try array(Int32.self, n)
    guard file.position == file.size else { throw bad("trailing bytes") }
    var customer = [Int32](repeating: 0, count: n)
    for k in 0..<c { for i in start[k]..<start[k + 1] { customer[i] = Int32(k) } }
    func valid(_ a: [Int32], _ names: Int, optional: Bool) -> Bool {
      a.allSatisfy { ($0 >= 0 || (optional && $0 == -1)) && $0 < names }
    }
    guard valid(category, header.categories.count, optional: false),
      valid(channel, header.channels.count, optional: true), valid(store, header.stores.count, optional: true),
      header.categoryFirstLines.count == header.categories.count,
      header.channelFirstLines.count == header.channels.count, header.storeFirstLines.count == header.stores.count
    else { throw bad("an index out of range") }
    let ledger = Ledger(
      customerIDs: ids, categories: header.categories, channels: header.channels, stores: header.stores,
      customer: customer, day: day, category: category, amount: amount, listPrice: listPrice, promo: promo,
      channel: channel, store: store, customerStart: start, columns: header.columns)
    return ShardStatistics(header: header, ledger: ledger, customerFirstLines: first)
  }
}

/// A statistics file read front to back through a buffer, each row column
/// straight into its array: no copy of the file in memory, and no mapping
/// (a mapped file's pages count as the process's memory while the columns
/// are copied out of them: 0.37 GB for the 10M-row benchmark as one file).
private struct ShardFileReader {
  private let fd: FileDescriptor
  /// The file's size in bytes.
  let size: Int
  /// Bytes consumed so far.
  private(set) var position = 0
  private var buffer: [UInt8] = []
  private var start = 0

  /// - Throws: `IngestError` when the file cannot be opened or is not a
  ///   regular file (`koi fit` reads every file more than once).
  init(path: String, at: SourceLocation) throws {
    let message = "cannot read the shard statistics; give files written by koi stats."
    guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else {
      throw IngestError(.fileNotFound, message, at: at)
    }
    var st = stat()
    guard fstat(fd.rawValue, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
      try? fd.close()
      throw IngestError(
        .fileNotFound,
        "is not a file (a pipe?): koi fit and koi merge read each statistics file more than once; give files written by koi stats.",
        at: at)
    }
    self.fd = fd
    size = Int(st.st_size)
  }

  func close() { try? fd.close() }

  /// Reads into `out` until it is full or the file ends; returns the bytes read.
  private static func fill(_ fd: FileDescriptor, _ out: UnsafeMutableRawBufferPointer) throws -> Int {
    var done = 0
    while done < out.count {
      let n = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: out[done...]))
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// `body` of the next `n` bytes, or nil when the file ends first.
  mutating func withBytes<R>(_ n: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
    guard n <= size - position else { return nil }
    if buffer.count - start < n {
      buffer.removeFirst(start)
      start = 0
      let have = buffer.count
      let want = max(n, 1 << 20) - have
      buffer += [UInt8](repeating: 0, count: want)
      let fd = fd
      let got = try buffer.withUnsafeMutableBytes {
        try Self.fill(fd, UnsafeMutableRawBufferPointer(rebasing: $0[have...]))
      }
      buffer.removeLast(want - got)
      guard buffer.count >= n else { return nil }
    }
    let r = try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<start + n])) }
    start += n
    position += n
    return r
  }

  /// The next `count` values of `T`, or nil when the file ends first.
  mutating func array<T>(_: T.Type, _ count: Int) throws -> [T]? {
    let n = count * MemoryLayout<T>.stride
    guard n <= size - position else { return nil }
    let buffered = min(n, buffer.count - start)
    var complete = true
    let a = try [T](unsafeUninitializedCapacity: count) { out, initialized in
      let raw = UnsafeMutableRawBufferPointer(out)
      buffer.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + buffered])) }
      let rest = UnsafeMutableRawBufferPointer(rebasing: raw[buffered..<n])
      complete = try Self.fill(fd, rest) == rest.count
      initialized = complete ? count : 0
    }
    guard complete else { return nil }
    start += buffered
    position += n
    return a
  }
}
