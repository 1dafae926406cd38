/// What to do with a row that is an exact copy of a row in an earlier file
/// (overlapping exports): `--duplicates`, TOML `input.duplicates`.
public enum DuplicatePolicy: String, CaseIterable, Sendable, Codable {
  /// Keep them; run.json counts them and shows the first examples, and the
  /// run warns.
  case report
  /// Reject them as `duplicate_across_files`.
  case dropAcrossFiles = "drop-across-files"
}

/// Finds rows repeated across input files.
///
/// Two rows are the same when the text of every canonical column the run
/// reads (customer_id, date, item, amount, and list_price, promo, channel,
/// store where mapped) is equal byte for byte, after unquoting, trimming
/// spaces and decoding to UTF-8; columns Koi does not read (an order number,
/// a note) are not compared. So `2025-03-05` and `2025/3/5` differ, and a
/// GB18030 file and a UTF-8 file with the same text agree. A row is a
/// duplicate when an earlier file (in read order) holds the same row;
/// identical rows within one file are never duplicates (two identical items
/// on one bill are legitimate).
///
/// Memory: one 64-bit hash and one row number per distinct row (16 bytes
/// in an open-addressing table at most 60% full: about 27 bytes a row), held
/// only while a run with several inputs is read. A hash hit is confirmed on
/// the parsed values of both rows (customer, day, item, amount, list price,
/// promo, channel, store), so a hash collision between different rows is
/// never taken for a duplicate; rows whose hashes collide are both kept in
/// the table, so no duplicate is missed either. The only case left is a
/// 64-bit collision between two rows with equal parsed values but different
/// text (say two times of day), about 1 in 10¹⁹ per pair.
///
/// - Complexity: O(1) expected per row.
struct DuplicateRows {
  private var hashes: [UInt64]
  private var rows: [Int32]
  private var count = 0
  private var mask: Int

  init() {
    hashes = [UInt64](repeating: 0, count: 1 << 16)
    rows = [Int32](repeating: -1, count: 1 << 16)
    mask = (1 << 16) - 1
  }

  /// The hash of a row's canonical fields, in canonical order, each field's
  /// own hash mixed with its position so that moving text between fields
  /// changes the result.
  @inline(__always)
  static func rowHash(layout: RecordLayout, field: (Int) -> UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    for column in [
      layout.customer, layout.date, layout.item, layout.amount, layout.listPrice, layout.promo, layout.channel,
      layout.store,
    ] {
      let f: UInt64 = column >= 0 ? ByteInterner.hash(field(column)) : 0x5851_F42D_4C95_7F2D
      h = (h ^ f) &* 0x9E37_79B9_7F4A_7C15
      h ^= h >> 32
    }
    return h == 0 ? 1 : h
  }

  /// The row already in the table that `equal` confirms, else inserts
  /// `row` and returns nil.
  mutating func findOrInsert(hash: UInt64, row: Int32, equal: (Int32) -> Bool) -> Int32? {
    var i = Int(truncatingIfNeeded: hash) & mask
    while hashes[i] != 0 {
      if hashes[i] == hash && equal(rows[i]) { return rows[i] }
      i = (i + 1) & mask
    }
    hashes[i] = hash
    rows[i] = row
    count += 1
    if count * 10 > hashes.count * 6 { grow() }
    return nil
  }

  private mutating func grow() {
    let oldHashes = hashes, oldRows = rows
    let size = hashes.count * 2
    hashes = [UInt64](repeating: 0, count: size)
    rows = [Int32](repeating: -1, count: size)
    mask = size - 1
    for k in oldHashes.indices where oldHashes[k] != 0 {
      var i = Int(truncatingIfNeeded: oldHashes[k]) & mask
      while hashes[i] != 0 { i = (i + 1) & mask }
      hashes[i] = oldHashes[k]
      rows[i] = oldRows[k]
    }
  }
}

/// run.json `input.duplicates_across_files`: rows that repeat a row of an
/// earlier file.
public struct DuplicateReport: Sendable, Codable, Equatable {
  public struct Example: Sendable, Codable, Equatable {
    /// Where the copy is: the file (and sheet) and its line (row).
    public var file: String
    public var sheet: String?
    public var line: Int
    /// Where the first one is.
    var sameAsFile: String
    var sameAsSheet: String?
    var sameAsLine: Int
  }

  /// Rows that repeat a row of an earlier file.
  public var rows = 0
  /// `kept` (`--duplicates report`) or `dropped` (`drop-across-files`).
  var action: String
  /// The first 10, in read order.
  var examples: [Example] = []

  static let exampleLimit = 10
}
