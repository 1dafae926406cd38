#if canImport(Glibc)
  import Glibc
#endif

/// Maps byte strings to dense `Int32` ids in order of first appearance,
/// without creating a `String` per lookup: the customer-id hot path of ingest.
///
/// Open addressing with linear probing over a power-of-two table; keys live
/// in one byte arena. Load factor stays ≤ 1/2. A slot holds, beside the id,
/// part of the key's hash and its length, which rule out almost every
/// mismatch; each id's first eight bytes (its head) are kept beside the
/// arena, so a key of up to 8 bytes (most customer ids, channels and
/// stores) is confirmed by one comparison of words, without `memcmp` or the
/// arena.
///
/// - Complexity: expected O(key length) per lookup.
struct ByteInterner {
  private(set) var arena: [UInt8] = []
  private(set) var offsets: [Int] = [0]
  /// Each id's head (`Key.head`).
  private var heads: [UInt64] = []
  /// Slots: 0 when empty, else `signature(hash, length) | (id + 1)`.
  private var table: [UInt64]
  private var mask: Int

  init(capacity: Int = 1024) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    table = [UInt64](repeating: 0, count: size)
    mask = size - 1
  }

  var count: Int { heads.count }

  /// The key bytes of `id`.
  func key(_ id: Int32) -> ArraySlice<UInt8> { arena[offsets[Int(id)]..<offsets[Int(id) + 1]] }

  func string(_ id: Int32) -> String { String(decoding: key(id), as: UTF8.self) }

  /// What a lookup compares before the key's bytes: its hash, and its first
  /// eight bytes (fewer, zero-padded, for a shorter key).
  struct Key {
    var hash: UInt64
    var head: UInt64
  }

  /// The hash and head of `p`. Reads whole words (overlapping ones for the
  /// last bytes), never a byte outside `p`.
  @inline(__always)
  static func key(_ p: UnsafeBufferPointer<UInt8>) -> Key {
    let n = p.count
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
    guard let base = p.baseAddress, n > 0 else { return Key(hash: finish(h), head: 0) }
    let raw = UnsafeRawPointer(base)
    @inline(__always) func word(_ i: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) }
    let head: UInt64
    if n >= 8 {
      head = word(0)
    } else if n >= 4 {
      // Two overlapping 4-byte loads: the shared bytes land on themselves.
      let lo = raw.loadUnaligned(as: UInt32.self), hi = raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
      head = UInt64(lo) | UInt64(hi) << (8 * (n - 4))
    } else {
      head = UInt64(base[0]) | UInt64(base[n >> 1]) << (8 * (n >> 1)) | UInt64(base[n - 1]) << (8 * (n - 1))
    }
    h = mix(h, head)
    var i = 8
    while i + 8 <= n {
      h = mix(h, word(i))
      i += 8
    }
    if i < n { h = (h ^ word(n - 8)) &* 0xC4CE_B9FE_1A85_EC53 }
    return Key(hash: finish(h), head: head)
  }

  @inline(__always)
  private static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
    let m = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
    return m ^ (m >> 29)
  }

  @inline(__always)
  private static func finish(_ h: UInt64) -> UInt64 {
    var h = h
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    return h
  }

  /// The hash of `p` (`key(_:)`), for tables of whole rows (`DuplicateRows`).
  @inline(__always)
  static func hash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 { key(p).hash }

  /// A slot's first word without the id: the hash's top 24 bits and the
  /// key's length (255 for 255 bytes or more). The slot index comes from
  /// the hash's low bits, so the two are independent up to 2^24 slots.
  @inline(__always)
  private static func signature(_ h: UInt64, _ length: Int) -> UInt64 {
    (h & 0xFFFF_FF00_0000_0000) | UInt64(min(length, 255)) << 32
  }

  /// The id of `key` (whose hash and head are `k`) if it is interned.
  @inline(__always)
  func find(_ key: UnsafeBufferPointer<UInt8>, _ k: Key) -> Int32? {
    let want = ByteInterner.signature(k.hash, key.count)
    return table.withUnsafeBufferPointer { slots in
      heads.withUnsafeBufferPointer { heads in
        var slot = Int(truncatingIfNeeded: k.hash) & mask
        while true {
          let entry = slots[slot]
          if entry == 0 { return nil }
          if entry & 0xFFFF_FFFF_0000_0000 == want {
            let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
            if heads[id] == k.head && (key.count <= 8 || tailEquals(key, id)) { return Int32(id) }
          }
          slot = (slot + 1) & mask
        }
      }
    }
  }

  /// Whether interned key `id` is `key`, given that both are longer than
  /// 8 bytes and their first 8 bytes are equal.
  private func tailEquals(_ key: UnsafeBufferPointer<UInt8>, _ id: Int) -> Bool {
    offsets.withUnsafeBufferPointer { off in
      arena.withUnsafeBufferPointer { a in
        let lo = off[id], n = key.count
        guard off[id + 1] - lo == n else { return false }
        // Both are non-empty here (longer than 8 bytes).
        let mine = UnsafeRawPointer(a.baseAddress! + lo), theirs = UnsafeRawPointer(key.baseAddress!)
        if n <= 16 {
          return mine.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            == theirs.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        return memcmp(mine + 8, theirs + 8, n - 8) == 0
      }
    }
  }

  /// Inserts `key` (whose hash and head are `k`), which must not be
  /// interned yet, and returns its new id.
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, _ k: Key) -> Int32 {
    if (count + 1) * 2 > table.count { grow() }
    let id = Int32(count)
    arena.append(contentsOf: key)
    offsets.append(arena.count)
    heads.append(k.head)
    place(id, k.hash, length: key.count)
    return id
  }

  /// The id of `key`, interning it if new.
  mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
    let k = ByteInterner.key(key)
    return find(key, k) ?? insert(key, k)
  }

  private mutating func place(_ id: Int32, _ hash: UInt64, length: Int) {
    var slot = Int(truncatingIfNeeded: hash) & mask
    while table[slot] != 0 { slot = (slot + 1) & mask }
    table[slot] = ByteInterner.signature(hash, length) | UInt64(id + 1)
  }

  /// Makes room for `keys` keys in all without growing the table again.
  mutating func reserveCapacity(_ keys: Int) {
    var size = table.count
    while keys * 2 > size { size <<= 1 }
    if size > table.count { grow(to: size) }
  }

  /// Moves every key to a new table of `size` slots (twice the current by
  /// default). Hashes are not stored (8 bytes an id at a million
  /// customers): each key's is computed again from the arena.
  ///
  /// The keys go in blocks: a block's home slots are read first, in a loop
  /// of independent loads whose cache misses the processor overlaps, then
  /// the block's keys are placed into slots now in cache. Placed one at a
  /// time, each key waited for its own miss: the run-wide customer table
  /// (32 MB at 1.47M customers) grew on the serial merge of ingest, with
  /// the other core idle, for about 0.1 s of a 10M-row run.
  private mutating func grow(to size: Int? = nil) {
    table = [UInt64](repeating: 0, count: size ?? table.count * 2)
    mask = table.count - 1
    let arena = self.arena, offsets = self.offsets  // read while the table is written
    let block = 256
    var hashes = [UInt64](repeating: 0, count: block), seen = [UInt64](repeating: 0, count: block)
    let mask = self.mask, count = self.count
    arena.withUnsafeBufferPointer { a in
      offsets.withUnsafeBufferPointer { offsets in
        table.withUnsafeMutableBufferPointer { slots in
          for first in stride(from: 0, to: count, by: block) {
            let ids = first..<min(first + block, count)
            for id in ids {
              hashes[id - first] =
                ByteInterner.key(UnsafeBufferPointer(rebasing: a[offsets[id]..<offsets[id + 1]])).hash
            }
            // Nothing but the loads, so that many are in flight at once.
            for j in 0..<ids.count { seen[j] = slots[Int(truncatingIfNeeded: hashes[j]) & mask] }
            for id in ids {
              let h = hashes[id - first]
              var slot = Int(truncatingIfNeeded: h) & mask
              // Slots only fill, so what was seen there, or a key of this
              // block placed since, says whether the home slot is taken.
              if seen[id - first] | slots[slot] != 0 {
                repeat { slot = (slot + 1) & mask } while slots[slot] != 0
              }
              slots[slot] = ByteInterner.signature(h, offsets[id + 1] - offsets[id]) | UInt64(id + 1)
            }
          }
        }
      }
    }
  }

  /// Each of this interner's ids as an id of `global`, interning there the
  /// keys it lacks in this interner's id order.
  ///
  /// The run-wide interner's table outgrows the caches, so each key's
  /// first probe is a cache miss. Every key's home slot is therefore read
  /// first, in a loop of independent loads whose misses the processor
  /// overlaps; the lookups that follow find those slots in cache, and a key
  /// whose home slot was empty then and still is is new without a probe.
  /// `global` grows beforehand, so home slots stay where they are.
  func ids(in global: inout ByteInterner) -> [Int32] {
    global.reserveCapacity(global.count + count)
    let keys = arena.withUnsafeBufferPointer { a in
      (0..<count).map { ByteInterner.key(UnsafeBufferPointer(rebasing: a[offsets[$0]..<offsets[$0 + 1]])) }
    }
    let mask = global.mask
    let emptyHome = global.table.withUnsafeBufferPointer { t in
      keys.map { t[Int(truncatingIfNeeded: $0.hash) & mask] == 0 }
    }
    return arena.withUnsafeBufferPointer { a in
      (0..<count).map { id in
        let key = UnsafeBufferPointer(rebasing: a[offsets[id]..<offsets[id + 1]])
        let k = keys[id]
        let new = emptyHome[id] && global.table[Int(truncatingIfNeeded: k.hash) & mask] == 0
        return (new ? nil : global.find(key, k)) ?? global.insert(key, k)
      }
    }
  }

  /// All keys as strings, by id.
  func strings() -> [String] {
    // On every core: 1.47M ids took 12 ms of a 10M-row run on one.
    Parallel.map(elements: count, minimumChunk: 65_536) { string(Int32($0)) }
  }
}

/// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or
/// code points above U+10FFFF, no sequence cut off at the end). One byte
/// at a time: it checks short keys.
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  checkUTF8(bytes, allowingCutOffEnd: false, asciiWords: false)
}

/// True when the block `bytes` of a longer text holds no invalid UTF-8
/// sequence (a sequence cut off by its end is not invalid), ASCII checked
/// 32 bytes at a time: the encoding guess reads an 8 MiB block with it.
func isValidUTF8Block(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  checkUTF8(bytes, allowingCutOffEnd: true, asciiWords: true)
}

/// The two checks above, each inlined with its constants: the word test in
/// the key check's loop made it about 2.5 times slower (the parser's
/// new-key samples in three 10 kHz profiles of a 1M-row run 15–23 →
/// 41–59).
@inline(__always)
private func checkUTF8(_ bytes: UnsafeBufferPointer<UInt8>, allowingCutOffEnd: Bool, asciiWords: Bool) -> Bool {
  let n = bytes.count
  var i = 0
  while i < n {
    if asciiWords, i + 32 <= n, let base = bytes.baseAddress {
      let p = UnsafeRawPointer(base + i)
      @inline(__always) func word(_ k: Int) -> UInt64 { p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self) }
      if (word(0) | word(1) | word(2) | word(3)) & 0x8080_8080_8080_8080 == 0 {
        i += 32
        continue
      }
    }
    if bytes[i] < 0x80 { i += 1; continue }
    let length = utf8SequenceLength(bytes, at: i)
    if length == 0 { return allowingCutOffEnd }
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
