import Foundation
import Testing

@testable import Koi

@Suite struct GeneratorTests {
  let dir = TemporaryDirectory()

  func generate(_ name: String, _ configure: (inout GeneratorOptions) -> Void = { _ in }) throws -> (
    GeneratorSummary, String
  ) {
    var o = GeneratorOptions()
    o.customers = 600
    configure(&o)
    let out = dir.path(name)
    return (try TransactionGenerator.generate(o, outputDirectory: out), out)
  }

  func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
    let (_, a) = try generate("a") { $0.seed = 5 }
    let (_, b) = try generate("b") { $0.seed = 5 }
    let (_, c) = try generate("c") { $0.seed = 6 }
    #expect(try bytes(a + "/transactions.csv") == bytes(b + "/transactions.csv"))
    #expect(try bytes(a + "/truth.csv") == bytes(b + "/truth.csv"))
    #expect(try bytes(a + "/transactions.csv") != bytes(c + "/transactions.csv"))
  }

  @Test func ingestRejectsExactlyTheRowsMadeBad() throws {
    let (summary, out) = try generate("bad") {
      $0.badRowFraction = 0.03; $0.seed = 11
    }
    #expect(summary.badRows > 20)
    let r = try TransactionReader.read(path: out + "/transactions.csv")
    let listed = try String(contentsOfFile: out + "/bad_rows.csv", encoding: .utf8)
      .split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: " ") }
    #expect(r.rejects.map { "\($0.line) \($0.reason.rawValue)" } == listed)
    #expect(r.counts.read == summary.rows && r.counts.rejected == summary.badRows)
    #expect(r.ledger.customerCount == 600)  // a first purchase is never made bad
  }

  @Test func purchasesMatchTruthAndEveryTierAppears() throws {
    let (summary, out) = try generate("truth") { $0.seed = 3 }
    let r = try TransactionReader.read(path: out + "/transactions.csv")
    let truth = try String(contentsOfFile: out + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst()
    var purchases: [String: Int] = [:]
    var tiers = Set<Substring>()
    for line in truth {
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      purchases[String(f[0])] = Int(f[5])
      tiers.insert(f[1])
    }
    #expect(tiers == ["1", "2", "3", "4"])
    var counted: [String: Int] = [:]
    for i in 0..<r.ledger.rowCount where isPurchase(r.ledger.amount[i]) {
      counted[r.ledger.customerIDs[Int(r.ledger.customer[i])], default: 0] += 1
    }
    #expect(counted == purchases)
    #expect(summary.rows == r.ledger.rowCount)
  }

  @Test func chineseGB18030ExportReadsLikeItsUTF8Twin() throws {
    let (_, utf8) = try generate("zh8") {
      $0.chineseHeaders = true; $0.seed = 9
    }
    let (_, gb) = try generate("zhgb") {
      $0.chineseHeaders = true; $0.seed = 9; $0.encoding = .gb18030
    }
    #expect(try bytes(utf8 + "/transactions.csv") != bytes(gb + "/transactions.csv"))
    let a = try TransactionReader.read(path: utf8 + "/transactions.csv")
    let b = try TransactionReader.read(path: gb + "/transactions.csv")
    #expect(b.encoding == .gb18030 && b.encodingDetected)
    #expect(a.counts.rejected == 0 && b.counts.rejected == 0)
    #expect(a.ledger.customerIDs == b.ledger.customerIDs)
    #expect(a.ledger.categories == b.ledger.categories)
    #expect(a.ledger.amount == b.ledger.amount)
    #expect(a.ledger.categories.contains("玻尿酸填充"))
  }
}
