#if canImport(Glibc)
  import Glibc
#endif

/// Maps byte strings to dense `Int32` ids in order of first appearance,
/// without creating a `String` per lookup: the customer-id hot path of ingest.
///
/// Open addressing with linear probing over a power-of-two table; keys live
/// in one byte arena. Load factor stays ≤ 1/2.
///
/// - Complexity: expected O(key length) per lookup.
struct ByteInterner {
  private(set) var arena: [UInt8] = []
  private(set) var offsets: [Int] = [0]
  private var hashes: [UInt64] = []
  /// Slots: 0 when empty, else `(hash >> 32) << 32 | (id + 1)`, so one load
  /// both finds the entry and rejects almost every mismatch.
  private var table: [UInt64]
  private var mask: Int

  init(capacity: Int = 1024) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    table = [UInt64](repeating: 0, count: size)
    mask = size - 1
  }

  var count: Int { hashes.count }

  /// The key bytes of `id`.
  func key(_ id: Int32) -> ArraySlice<UInt8> { arena[offsets[Int(id)]..<offsets[Int(id) + 1]] }

  func string(_ id: Int32) -> String { String(decoding: key(id), as: UTF8.self) }

  @inline(__always)
  static func hash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(p.count)
    let n = p.count
    guard let base = p.baseAddress else { return h }
    let raw = UnsafeRawPointer(base)
    var i = 0
    while i + 8 <= n {
      let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 29
      i += 8
    }
    if i < n {
      var w: UInt64 = 0
      var shift: UInt64 = 0
      while i < n { w |= UInt64(base[i]) << shift; shift += 8; i += 1 }
      h = (h ^ w) &* 0xC4CE_B9FE_1A85_EC53
    }
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    return h
  }

  @inline(__always)
  private static func tag(_ h: UInt64) -> UInt64 { h & 0xFFFF_FFFF_0000_0000 }

  /// The id of `key` if it is interned.
  func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32? {
    let tag = ByteInterner.tag(h)
    return table.withUnsafeBufferPointer { slots in
      offsets.withUnsafeBufferPointer { off in
        arena.withUnsafeBufferPointer { a in
          var slot = Int(truncatingIfNeeded: h) & mask
          while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
              let id = Int(entry & 0xFFFF_FFFF) - 1
              let lo = off[id]
              if off[id + 1] - lo == key.count
                && (key.count == 0 || memcmp(a.baseAddress! + lo, key.baseAddress!, key.count) == 0)
              {  // both non-empty here
                return Int32(id)
              }
            }
            slot = (slot + 1) & mask
          }
        }
      }
    }
  }

  /// Inserts `key`, which must not be interned yet, and returns its new id.
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32 {
    if (hashes.count + 1) * 2 > table.count { grow() }
    let id = Int32(hashes.count)
    arena.append(contentsOf: key)
    offsets.append(arena.count)
    hashes.append(h)
    place(id, h)
    return id
  }

  /// The id of `key`, interning it if new.
  mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
    let h = ByteInterner.hash(key)
    return find(key, hash: h) ?? insert(key, hash: h)
  }

  private mutating func place(_ id: Int32, _ h: UInt64) {
    var slot = Int(truncatingIfNeeded: h) & mask
    while table[slot] != 0 { slot = (slot + 1) & mask }
    table[slot] = ByteInterner.tag(h) | UInt64(id + 1)
  }

  private mutating func grow() {
    table = [UInt64](repeating: 0, count: table.count * 2)
    mask = table.count - 1
    for id in 0..<hashes.count { place(Int32(id), hashes[id]) }
  }

  /// Each of this interner's ids as an id of `global`, interning there the
  /// keys it lacks in this interner's id order; the stored hashes are
  /// reused, not computed again.
  func ids(in global: inout ByteInterner) -> [Int32] {
    arena.withUnsafeBufferPointer { a in
      (0..<count).map { id in
        let key = UnsafeBufferPointer(rebasing: a[offsets[id]..<offsets[id + 1]])
        return global.find(key, hash: hashes[id]) ?? global.insert(key, hash: hashes[id])
      }
    }
  }

  /// All keys as strings, by id.
  func strings() -> [String] { (0..<count).map { string(Int32($0)) } }
}

/// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or
/// code points above U+10FFFF, no sequence cut off at the end).
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  var i = 0
  while i < bytes.count {
    if bytes[i] < 0x80 { i += 1; continue }
    let length = utf8SequenceLength(bytes, at: i)
    guard length > 0 else { return false }
    i += length
  }
  return true
}

/// The length of the well-formed UTF-8 sequence that starts with the
/// non-ASCII byte at `i` (2–4); 0 when `bytes` ends inside one that is
/// well-formed so far; minus the length of the maximal invalid subpart
/// otherwise (−1 for a byte that cannot start a sequence).
@inline(__always)
func utf8SequenceLength<Bytes: RandomAccessCollection>(_ bytes: Bytes, at i: Int) -> Int
where Bytes.Element == UInt8, Bytes.Index == Int {
  var need = 0
  var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
  switch bytes[i] {
  case 0xC2...0xDF: need = 1
  case 0xE0: need = 2; lo = 0xA0
  case 0xE1...0xEC, 0xEE...0xEF: need = 2
  case 0xED: need = 2; hi = 0x9F
  case 0xF0: need = 3; lo = 0x90
  case 0xF1...0xF3: need = 3
  case 0xF4: need = 3; hi = 0x8F
  default: return -1
  }
  for k in 1...need {
    guard i + k < bytes.endIndex else { return 0 }
    let c = bytes[i + k]
    let (l, h) = k == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
    guard c >= l && c <= h else { return -k }
  }
  return need + 1
}
