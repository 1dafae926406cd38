import Testing

@testable import Koi

/// `ByteInterner`'s slots keep a key's first eight bytes and its length, so
/// keys that share them must still get their own ids.
@Suite struct ByteInternerTests {
  /// Keys of every length from 0 to 40 that share their first bytes, keys
  /// that differ only past byte 8 or 16, and keys that end in zero bytes
  /// (a short key's head is zero-padded).
  static let keys: [[UInt8]] = {
    var keys: [[UInt8]] = []
    for n in 0...40 {
      let base = (0..<n).map { UInt8(65 + $0 % 26) }
      keys.append(base)
      if n > 0 {
        var last = base
        last[n - 1] = 122
        keys.append(last)
        keys.append(Array(base.dropLast()) + [0])
      }
      if n > 12 {
        var middle = base
        middle[9] = 122
        keys.append(middle)
      }
    }
    return keys
  }()

  @Test func everyKeyGetsItsOwnIdInOrderOfFirstAppearance() {
    var interner = ByteInterner(capacity: 1)  // grows many times
    var expected: [[UInt8]: Int32] = [:]
    for round in 0..<2 {
      for key in Self.keys {
        let id = key.withUnsafeBufferPointer { interner.intern($0) }
        if round == 0, expected[key] == nil { expected[key] = Int32(expected.count) }
        #expect(id == expected[key], "\(key)")
      }
    }
    #expect(interner.count == expected.count)
    for (key, id) in expected { #expect(Array(interner.key(id)) == key) }
  }

  @Test func idsInAnotherInternerAreItsIdsForTheSameKeys() {
    var local = ByteInterner(capacity: 4)
    var global = ByteInterner(capacity: 4)
    let shared = Self.keys.filter { $0.count % 3 == 0 }
    for key in shared { _ = key.withUnsafeBufferPointer { global.intern($0) } }
    for key in Self.keys.reversed() { _ = key.withUnsafeBufferPointer { local.intern($0) } }
    let map = local.ids(in: &global)
    #expect(global.count == Set(Self.keys).count)
    for id in 0..<local.count {
      #expect(global.key(map[id]) == local.key(Int32(id)))
    }
  }
}

/// Growth moves every key: 200,000 keys through many doublings and one
/// reservation keep their ids, and every lookup finds its key (the table
/// is filled a block of keys at a time, with collisions and wrap-around).
@Suite struct ByteInternerGrowthTests {
  @Test func keysKeepTheirIdsThroughEveryGrowth() {
    let keys = (0..<200_000).map { i in Array("C\(i * 7919 % 1_000_003)-\(i % 13)".utf8) }
    var interner = ByteInterner(capacity: 1)
    for (i, key) in keys.enumerated() {
      #expect(key.withUnsafeBufferPointer { interner.intern($0) } == Int32(i))
      if i == 150_000 { interner.reserveCapacity(1_000_000) }
    }
    for (i, key) in keys.enumerated() where i % 7 == 0 {
      let found = key.withUnsafeBufferPointer { interner.find($0, ByteInterner.key($0)) }
      #expect(found == Int32(i))
    }
    let absent = Array("not a key".utf8)
    #expect(absent.withUnsafeBufferPointer { interner.find($0, ByteInterner.key($0)) } == nil)
  }
}
