import Testing

@testable import Koi

/// Keys in byte order find the customers a dictionary of ids finds.
@Suite struct KeyOrderMatchTests {
  @Test func findsWhatADictionaryFinds() {
    let ids = RadixSortTests.ids(3000, seed: 5)
    // The first customer of each id, as a dictionary of ids keeps it.
    var first: [[UInt8]: Int] = [:]
    for (c, id) in ids.enumerated() where first[Array(id.utf8)] == nil { first[Array(id.utf8)] = c }
    // Keys: every id, some twice, and ids no customer has, in byte order.
    var keys = ids.map { Array($0.utf8) } + ids.prefix(50).map { Array($0.utf8) }
    keys += (0..<200).map { Array("unknown-\($0)".utf8) } + [[], [0xFF], Array("C000".utf8) + [0]]
    keys.sort { $0.lexicographicallyPrecedes($1) }
    var match = KeyOrderMatch(ids: ids)
    for key in keys {
      let found = key.withUnsafeBytes { match.customer($0) }
      if let c = found {
        // Some customer with those bytes: the first when ids repeat.
        #expect(Array(ids[c].utf8) == key)
        #expect(c == first[key])
      } else {
        #expect(first[key] == nil)
      }
    }
  }

  @Test func comparesAsSQLiteBinaryCollation() {
    let pairs: [(String, String, Int)] = [
      ("a", "b", -1), ("ab", "a", 1), ("", "", 0), ("é", "e\u{301}", 1), ("Z", "a", -1),
    ]
    for (a, b, sign) in pairs {
      #expect(Array(b.utf8).withUnsafeBytes { KeyOrderMatch.compare(a, $0) } == sign)
    }
  }
}
