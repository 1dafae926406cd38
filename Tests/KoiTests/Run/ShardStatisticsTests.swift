import Foundation
import Testing

@testable import Koi

/// The KOISTATS file: written and read back exactly; a damaged file is
/// refused with a message, never a trap.
@Suite struct ShardStatisticsTests {
  let dir = TemporaryDirectory()

  func shard() throws -> ShardStatistics {
    let csv = dir.path("shard.csv")
    try
      "customer_id,date,item,amount,store\nA,2024-01-02,peel,100,s1\n\nB,2024-01-03,mask,80,\nA,2024-02-02,laser,300,s2\nC,2024-13-01,peel,1,s1\n"
      .write(toFile: csv, atomically: true, encoding: .utf8)
    return try ShardRun.statistics(ScoreOptions(inputPath: csv, outputDirectory: dir.path("out")))
  }

  @Test func aFileReadsBackAsWritten() throws {
    let s = try shard()
    let path = dir.path("a.stats")
    try s.write(to: path)
    let r = try ShardStatistics.read(path: path)
    #expect(r.ledger.customerIDs == ["A", "B"])
    #expect(r.customerFirstLines == [2, 4])
    #expect(r.header.categoryFirstLines == [2, 4, 5])
    #expect(r.header.stores == ["s1", "s2"])
    #expect(r.ledger.day == s.ledger.day && r.ledger.store == s.ledger.store)
    #expect(r.ledger.amount.map(\.bitPattern) == s.ledger.amount.map(\.bitPattern))
    #expect(r.ledger.listPrice.map(\.bitPattern) == s.ledger.listPrice.map(\.bitPattern))
    #expect(r.header.rejects.map(\.line) == [6])
    #expect(r.header.counts.read == 4 && r.header.counts.used == 3 && r.header.counts.blankLines == 1)
    #expect(try s.encoded() == r.encoded())
  }

  @Test func aDamagedFileIsRefusedNotTrapped() throws {
    let bytes = try shard().encoded()
    var damaged: [[UInt8]] = [0, 4, 8, 12, 20, bytes.count / 2, bytes.count - 1].map { Array(bytes.prefix($0)) }
    damaged.append(bytes + [0])
    for at in stride(from: 8, to: bytes.count, by: max(1, bytes.count / 97)) {
      var b = bytes
      b[at] ^= 0xFF
      damaged.append(b)
    }
    var refused = 0
    for (k, b) in damaged.enumerated() {
      let path = dir.path("d\(k).stats")
      try Data(b).write(to: URL(fileURLWithPath: path))
      do {
        _ = try ShardStatistics.read(path: path)
      } catch let e as IngestError {
        #expect(e.code == .badModel)
        refused += 1
      }
    }
    // Every cut file is refused; a flipped byte inside a value (an amount,
    // a day) may still read.
    #expect(refused >= 8)
    // Without the rows, a cut file is refused too.
    for (k, b) in damaged.enumerated() where b.count < bytes.count {
      #expect(throws: IngestError.self) { try ShardStatistics.read(path: dir.path("d\(k).stats"), rows: false) }
    }
  }

  @Test func theHeaderAloneReadsTheCustomersWithoutTheRows() throws {
    let s = try shard()
    let path = dir.path("h.stats")
    try s.write(to: path)
    let h = try ShardStatistics.read(path: path, rows: false)
    #expect(h.ledger.customerIDs == ["A", "B"] && h.customerFirstLines == [2, 4])
    #expect(h.ledger.customerStart == s.ledger.customerStart && h.rows == 3 && h.ledger.day.isEmpty)
  }

  @Test func aDirectoryOrMissingFileIsRefusedWithAMessage() throws {
    for path in [dir.path("."), dir.path("missing.stats")] {
      #expect {
        try ShardStatistics.read(path: path)
      } throws: { e in
        (e as? IngestError)?.code == .fileNotFound
      }
    }
  }
}
