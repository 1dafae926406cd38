import Testing

@testable import Koi

/// Random CSV-like bytes: no trap, every record accounted for, and the same
/// result whatever the batch size.
@Suite struct MessyInputTests {
  let dir = TemporaryDirectory()

  static func soup(seed: UInt64, rows: Int) -> [UInt8] {
    var rng = SeededGenerator(seed: seed)
    var out = Array("customer_id,date,item,amount,promo\n".utf8)
    let pieces: [[UInt8]] = [
      Array("a".utf8), Array("中".utf8), Array("\"".utf8), Array(",".utf8), Array("\n".utf8),
      Array("\r\n".utf8), Array("2025-01-0".utf8), Array("1".utf8), Array("-".utf8), Array("¥".utf8),
      Array(" ".utf8), [0xFF], [0xE4, 0xB8], Array("是".utf8), Array(".5".utf8), [0],
    ]
    for _ in 0..<rows {
      if rng.uniform() < 0.6 {
        let amount = rng.uniform() < 0.2 ? "-\(rng.next() % 100)" : "\(rng.next() % 1000)"
        out += Array("c\(rng.next() % 20),2025-01-\(10 + rng.next() % 18),i\(rng.next() % 3),\(amount),1\n".utf8)
      } else {
        for _ in 0..<(1 + Int(rng.next() % 12)) { out += pieces[Int(rng.next() % UInt64(pieces.count))] }
        out += [10]
      }
    }
    return out
  }

  @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
  func randomBytesNeverTrapAndAlwaysReconcile(seed: UInt64) throws {
    let path = try dir.write("soup\(seed).csv", bytes: Self.soup(seed: seed, rows: 400))
    var reference: IngestResult?
    for block in [5, 97, 1 << 20] {
      var o = IngestOptions()
      o.blockSize = block
      o.encoding = .utf8
      let r: IngestResult
      do {
        r = try TransactionReader.read(path: path, options: o)
      } catch let e as IngestError {
        #expect(e.code == .noUsableRows, "\(e)")
        continue
      }
      #expect(r.counts.read == r.counts.used + r.counts.rejected)
      #expect(r.rejects.count == r.counts.rejected)
      #expect(r.ledger.rowCount == r.counts.used)
      #expect(r.ledger.customerStart.last == r.ledger.rowCount)
      if let ref = reference {
        #expect(r.counts == ref.counts && r.rejects == ref.rejects && r.ledger.amount == ref.ledger.amount)
      } else {
        reference = r
      }
    }
  }
}
