import Foundation
import Testing

@testable import Koi

/// One chain split by customer into shards, through `koi stats` → `koi fit`
/// → `koi merge`, gives what one `koi score` gives, byte for byte (on one
/// machine: the comparison is between two runs here, never with bytes from
/// another machine).
@Suite struct ShardCommandTests {
  let dir = TemporaryDirectory()
  static let sample = EndToEndTests.sample
  static let outputs = ["customers.jsonl", "segments.json", "model.json", "due.json", "rejects.csv"]
  /// run.json fields that say how the run was made, not what it found.
  static let runFieldsThatDiffer: Set<String> = [
    "as_of_source", "command", "finished_at", "started_at", "input", "options", "seconds",
  ]

  func koi(_ arguments: [String], stdin: String? = nil) throws -> EndToEndTests.Outcome {
    try EndToEndTests().koi(arguments, stdin: stdin.map { Array($0.utf8) })
  }

  /// FNV-1a of the customer id: a hash split by customer, as Spark's
  /// hash partitioning makes one.
  static func shard(of customer: Substring, count: Int) -> Int {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in customer.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return Int(h % UInt64(count))
  }

  /// The sample split into `count` shard texts: the header, then every
  /// line of the input, blank where it belongs to another shard, so every
  /// line keeps its number.
  static func shards(_ text: String, count: Int) -> [String] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    var out = [String](repeating: String(lines[0]) + "\n", count: count)
    for line in lines.dropFirst().dropLast() {
      let k = line.isEmpty ? -1 : shard(of: line.prefix { $0 != "," }, count: count)
      for j in 0..<count { out[j] += (j == k ? String(line) : "") + "\n" }
    }
    return out
  }

  func single() throws -> String {
    let out = dir.path("single")
    let r = try koi(["score", Self.sample, "--out", out, "--quiet"])
    #expect(r.status == 0, "\(r.stderr)")
    return out
  }

  /// Writes the shards, runs `koi stats` on each (the first through
  /// standard input), and returns the statistics files.
  func stats(_ shards: [String], name: String) throws -> [String] {
    var files: [String] = []
    for (k, text) in shards.enumerated() {
      let csv = dir.path("\(name)-\(k).csv"), stats = dir.path("\(name)-\(k).stats")
      try text.write(toFile: csv, atomically: true, encoding: .utf8)
      let r =
        k == 0
        ? try koi(["stats", "-", "--out", stats, "--threads", "1"], stdin: text)
        : try koi(["stats", csv, "--out", stats])
      #expect(r.status == 0, "\(r.stderr)")
      files.append(stats)
    }
    return files
  }

  @Test(arguments: [1, 2, 7])
  func shardsGiveTheSingleRunByteForByte(count: Int) throws {
    let single = try single()
    let text = try String(contentsOfFile: Self.sample, encoding: .utf8)
    var shards = Self.shards(text, count: count)
    if count == 2 { shards.append(String(text.prefix { $0 != "\n" }) + "\n") }  // a shard with no rows
    if count == 7 { shards.append("") }  // an empty file: no header either
    let stats = try stats(shards, name: "s\(count)")
    let model = dir.path("model-\(count).json")
    let fit = try koi(["fit", "--stats"] + stats + ["--out", model])
    #expect(fit.status == 0, "\(fit.stderr)")
    // Progress lines (stderr is not a terminal here): the last shard read.
    #expect(fit.stderr.contains("shard \(stats.count) of \(stats.count)"), "\(fit.stderr)")
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: model))
        == Data(contentsOf: URL(fileURLWithPath: single + "/model.json")))
    let merged = dir.path("merged-\(count)")
    let m = try koi(["merge", "--stats"] + stats + ["--model", model, "--out", merged, "--quiet"])
    #expect(m.status == 0, "\(m.stderr)")
    try expectSameOutputs(single: single, merged: merged, count: count, how: "merged from \(count) shards' statistics")

    // The same shards scored each on its own with the model (what
    // executors run), then only their outputs merged: the same bytes.
    var scored: [String] = []
    for (k, text) in shards.enumerated() where !text.isEmpty {
      let csv = dir.path("o\(count)-\(k).csv"), out = dir.path("o\(count)-\(k)")
      try text.write(toFile: csv, atomically: true, encoding: .utf8)
      // Each executor reads its own copy of the model.
      let copy = dir.path("o\(count)-\(k)-model.json")
      try FileManager.default.copyItem(atPath: model, toPath: copy)
      let r = try koi(["score", csv, "--model", copy, "--shard", "--out", out, "--quiet", "--no-report"])
      #expect(r.status == 0, "\(r.stderr)")
      scored.append(out)
    }
    let fromOutputs = dir.path("outputs-merged-\(count)")
    let o = try koi(["merge", "--outputs"] + scored.reversed() + ["--out", fromOutputs, "--no-report"])
    #expect(o.status == 0, "\(o.stderr)")
    #expect(o.stderr.contains("shard \(scored.count) of \(scored.count)"), "\(o.stderr)")
    try expectSameOutputs(single: single, merged: fromOutputs, count: count, how: "merged from \(count) shard outputs")
  }

  /// Every output of a merge is the single run's, byte for byte, and its
  /// run.json agrees (`expectSameRun`).
  func expectSameOutputs(single: String, merged: String, count: Int, how: String) throws {
    for name in Self.outputs {
      let a = try Data(contentsOf: URL(fileURLWithPath: single + "/" + name))
      let b = try Data(contentsOf: URL(fileURLWithPath: merged + "/" + name))
      #expect(a == b, "\(name) differs \(how)")
    }
    try expectSameRun(single: single, merged: merged, count: count)
  }

  /// run.json of a merge agrees with the single run's but for the fields
  /// that say how the run was made.
  func expectSameRun(single: String, merged: String, count: Int) throws {
    let a = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: single + "/run.json")))
    let b = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: merged + "/run.json")))
    let ra = try #require(a as? [String: Any]), rb = try #require(b as? [String: Any])
    #expect(Set(ra.keys) == Set(rb.keys))
    for key in ra.keys where !Self.runFieldsThatDiffer.contains(key) {
      if key == "rows" {
        // Blank lines count the shards' padding; the rows themselves agree.
        var x = try #require(ra[key] as? [String: Any]), y = try #require(rb[key] as? [String: Any])
        x["blank_lines"] = nil
        y["blank_lines"] = nil
        #expect(NSDictionary(dictionary: x) == NSDictionary(dictionary: y))
      } else {
        #expect(
          (ra[key] as? NSObject) == (rb[key] as? NSObject), "run.json \(key) differs with \(count) shards")
      }
    }
  }

  /// Order is decided by the row that first names a customer or treatment,
  /// even a rejected one: B's rows come first, but A was named on line 2 (a
  /// row with no item) and is customer 0 of a single run; C has only a
  /// refund; a blank line sits between.
  @Test func firstAppearanceCountsRejectedRowsAndShardsMayBeUneven() throws {
    let rows = [
      "customer_id,date,item,amount,channel",
      "A,2024-01-02,,100,web",
      "B,2024-01-03,peel,120,store",
      "",
      "C,2024-01-04,mask,-50,web",
      "B,2024-02-03,laser,300,",
      "A,2024-02-05,peel,90,app",
      "A,2024-03-05,mask,80,app",
      "B,2024-03-09,peel,110,store",
    ]
    let text = rows.joined(separator: "\n") + "\n"
    let csv = dir.path("order.csv")
    try text.write(toFile: csv, atomically: true, encoding: .utf8)
    let single = dir.path("order-single")
    let options = ["--stages", "rfm,lifetime"]
    let r = try koi(["score", csv, "--out", single, "--quiet"] + options)
    #expect(r.status == 0, "\(r.stderr)")
    // A and C in one shard, B in the other.
    let shards = [["A", "C"], ["B"]].map { ids in
      rows.enumerated().map { i, line in
        i == 0 || ids.contains(where: { line.hasPrefix($0 + ",") }) ? line : ""
      }.joined(separator: "\n") + "\n"
    }
    let stats = try stats(shards, name: "order")
    let merged = dir.path("order-merged")
    let m = try koi(["merge", "--stats"] + stats + ["--out", merged, "--quiet"] + options)
    #expect(m.status == 0, "\(m.stderr)")
    for name in ["customers.jsonl", "segments.json", "model.json", "rejects.csv"] {
      let a = try String(contentsOfFile: single + "/" + name, encoding: .utf8)
      let b = try String(contentsOfFile: merged + "/" + name, encoding: .utf8)
      #expect(a == b, "\(name)")
    }
    let first = try String(contentsOfFile: merged + "/customers.jsonl", encoding: .utf8).prefix(20)
    #expect(first.contains("\"A\""))
  }

  /// The customer id of a customers.jsonl line.
  static func customerID(of line: Substring) -> Substring {
    let start = line.index(line.startIndex, offsetBy: "{\"customer_id\":\"".count)
    return line[start...].prefix { $0 != "\"" }
  }

  /// Each shard scored on its own with the single run's model
  /// (`koi score SHARD --model`, what an executor runs) gives the single
  /// run's customers.jsonl line of every customer of the shard, tags and
  /// tier, repurchase and lifetime figures included, in single-run order,
  /// and the single run's due lists restricted to the shard's customers.
  @Test(arguments: [2, 7])
  func shardsScoredWithTheModelGiveTheSingleRunsLines(count: Int) throws {
    let single = try single()
    let text = try String(contentsOfFile: Self.sample, encoding: .utf8)
    let all = try String(contentsOfFile: single + "/customers.jsonl", encoding: .utf8)
      .split(separator: "\n")
    let singleDue = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: single + "/due.json")))
        as? [String: Any])
    let singleLists = try #require(singleDue["categories"] as? [[String: Any]])
    var scored = 0
    for (k, shard) in Self.shards(text, count: count).enumerated() {
      let csv = dir.path("m\(count)-\(k).csv"), out = dir.path("m\(count)-\(k)")
      try shard.write(toFile: csv, atomically: true, encoding: .utf8)
      let r = try koi(["score", csv, "--model", single + "/model.json", "--out", out, "--quiet", "--no-report"])
      #expect(r.status == 0, "\(r.stderr)")
      let lines = try String(contentsOfFile: out + "/customers.jsonl", encoding: .utf8).split(separator: "\n")
      let ids = Set(lines.map(Self.customerID))
      let expected = all.filter { ids.contains(Self.customerID(of: $0)) }
      #expect(lines.count == expected.count)
      let differing = zip(lines, expected).filter { $0.0 != $0.1 }.count
      #expect(differing == 0, "shard \(k) of \(count): \(differing) of \(lines.count) lines differ")
      scored += lines.count
      let due = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/due.json")))
          as? [String: Any])
      let lists = try #require(due["categories"] as? [[String: Any]])
      #expect(lists.count == singleLists.count)
      for (a, b) in zip(lists, singleLists) {
        let mine = try #require(a["entries"] as? [[String: Any]])
        let theirs = try #require(b["entries"] as? [[String: Any]]).filter {
          ids.contains(Substring($0["customer_id"] as? String ?? ""))
        }
        #expect(mine.map { NSDictionary(dictionary: $0) } == theirs.map { NSDictionary(dictionary: $0) })
      }
    }
    #expect(scored == all.count)
  }

  /// Shard outputs of another format version, or scored with different
  /// models, are refused with a message; nothing is written.
  @Test func shardOutputsThatDoNotBelongTogetherAreRefused() throws {
    let single = try single()
    let text = try String(contentsOfFile: Self.sample, encoding: .utf8)
    var scored: [String] = []
    for (k, shard) in Self.shards(text, count: 2).enumerated() {
      let csv = dir.path("r-\(k).csv"), out = dir.path("r-\(k)")
      try shard.write(toFile: csv, atomically: true, encoding: .utf8)
      let r = try koi(["score", csv, "--model", single + "/model.json", "--shard", "--out", out, "--quiet"])
      #expect(r.status == 0, "\(r.stderr)")
      scored.append(out)
    }
    let side = scored[1] + "/shard.json"
    let original = try String(contentsOfFile: side, encoding: .utf8)
    try original.replacingOccurrences(of: "\"version\":\(ShardOutput.formatVersion)", with: "\"version\":9")
      .write(toFile: side, atomically: true, encoding: .utf8)
    let v = try koi(["merge", "--outputs"] + scored + ["--out", dir.path("rv")])
    #expect(v.status == 2)
    #expect(v.stderr.contains("shard format 9"), "\(v.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.path("rv") + "/customers.jsonl"))
    try original.write(toFile: side, atomically: true, encoding: .utf8)
    let modelText = try String(contentsOfFile: scored[1] + "/model.json", encoding: .utf8)
    try modelText.replacingOccurrences(of: "\"seed\" : 0", with: "\"seed\" : 1")
      .write(toFile: scored[1] + "/model.json", atomically: true, encoding: .utf8)
    let m = try koi(["merge", "--outputs"] + scored + ["--out", dir.path("rm")])
    #expect(m.status == 2)
    #expect(m.stderr.contains("score every shard with the same --model"), "\(m.stderr)")
    let plain = try koi(["score", Self.sample, "--shard", "--out", dir.path("rp")])
    #expect(plain.status != 0)
    #expect(plain.stderr.contains("--model"))
    let two = try koi([
      "score", dir.path("r-0.csv"), dir.path("r-1.csv"), "--model", single + "/model.json", "--shard", "--out",
      dir.path("r2"),
    ])
    #expect(two.status == 2)
    #expect(two.stderr.contains("reads one shard"), "\(two.stderr)")
  }

  /// With --due-limit each shard keeps its own top entries; the merge
  /// cuts the union at the limit by probability, then customer order.
  @Test func dueListsWithALimitMergeToTheSingleRunsTop() throws {
    let single = dir.path("limited")
    let s = try koi(["score", Self.sample, "--out", single, "--quiet", "--no-report", "--due-limit", "7"])
    #expect(s.status == 0, "\(s.stderr)")
    let text = try String(contentsOfFile: Self.sample, encoding: .utf8)
    var scored: [String] = []
    for (k, shard) in Self.shards(text, count: 3).enumerated() {
      let csv = dir.path("l-\(k).csv"), out = dir.path("l-\(k)")
      try shard.write(toFile: csv, atomically: true, encoding: .utf8)
      let r = try koi([
        "score", csv, "--model", single + "/model.json", "--shard", "--due-limit", "7", "--out", out, "--quiet",
        "--no-report",
      ])
      #expect(r.status == 0, "\(r.stderr)")
      scored.append(out)
    }
    let merged = dir.path("l-merged")
    let m = try koi(["merge", "--outputs"] + scored + ["--out", merged, "--no-report"])
    #expect(m.status == 0, "\(m.stderr)")
    for name in Self.outputs {
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: single + "/" + name))
          == Data(contentsOf: URL(fileURLWithPath: merged + "/" + name)), "\(name)")
    }
    let due = try String(contentsOfFile: merged + "/due.json", encoding: .utf8)
    #expect(due.contains("\"customers\":7,"))
  }

  @Test func aModelOfAnotherFormatIsRefused() throws {
    let single = try single()
    let text = try String(contentsOfFile: single + "/model.json", encoding: .utf8)
    #expect(text.contains("\"model_format\" : \(Model.format),"))
    let old = dir.path("format1.json")
    try text.replacingOccurrences(of: "\"model_format\" : \(Model.format),", with: "")
      .write(toFile: old, atomically: true, encoding: .utf8)
    let r = try koi(["score", Self.sample, "--model", old, "--out", dir.path("f1")])
    #expect(r.status == 2)
    #expect(r.stderr.contains("it is model format 1 and this Koi scores with format \(Model.format)"), "\(r.stderr)")
  }

  @Test func scoringWithTheSavedModelGivesTheFittingRun() throws {
    let single = try single()
    let out = dir.path("again")
    let r = try koi(["score", Self.sample, "--model", single + "/model.json", "--out", out, "--quiet"])
    #expect(r.status == 0, "\(r.stderr)")
    for name in Self.outputs {
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: single + "/" + name))
          == Data(contentsOf: URL(fileURLWithPath: out + "/" + name)), "\(name)")
    }
  }

  @Test func aModelFromAnotherVersionOrFitIsRefused() throws {
    let single = try single()
    let text = try String(contentsOfFile: single + "/model.json", encoding: .utf8)
    let old = dir.path("old.json")
    try text.replacingOccurrences(of: "\"koi_version\" : \"\(Koi.version)\"", with: "\"koi_version\" : \"0.0.1\"")
      .write(toFile: old, atomically: true, encoding: .utf8)
    let r = try koi(["score", Self.sample, "--model", old, "--out", dir.path("x")])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("koi: error: \(old): this model cannot score the run: it was written by Koi 0.0.1"))
    let seed = try koi(["score", Self.sample, "--model", single + "/model.json", "--seed", "9", "--out", dir.path("y")])
    #expect(seed.status == 2)
    #expect(seed.stderr.contains("--seed"))
    let k = try koi(["score", Self.sample, "--model", single + "/model.json", "--k", "5", "--out", dir.path("k")])
    #expect(k.status == 2)
    #expect(k.stderr.contains("fitted with --k 4"))
    let stats = try stats(Self.shards(try String(contentsOfFile: Self.sample, encoding: .utf8), count: 2), name: "v")
    let merge = try koi(["merge", "--stats"] + stats + ["--model", old, "--out", dir.path("z")])
    #expect(merge.status == 2)
    #expect(merge.stderr.contains("written by Koi 0.0.1"))
    #expect(!FileManager.default.fileExists(atPath: dir.path("z") + "/customers.jsonl"))
  }

  @Test func statisticsFromAnotherVersionAreRefused() throws {
    let stats = try stats(Self.shards(try String(contentsOfFile: Self.sample, encoding: .utf8), count: 2), name: "w")
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: stats[0])))
    let version = Array("\"koi_version\":\"\(Koi.version)\"".utf8)
    let at = try #require(
      (0...(bytes.count - version.count)).first { Array(bytes[$0..<$0 + version.count]) == version })
    bytes[at + version.count - 2] = UInt8(ascii: "9")
    try Data(bytes).write(to: URL(fileURLWithPath: stats[0]))
    let r = try koi(["fit", "--stats"] + stats + ["--out", dir.path("m.json")])
    #expect(r.status == 2)
    #expect(r.stderr.contains("were written by Koi"))
  }

  @Test func aBadRowUnderStrictFailsTheShardWithItsLine() throws {
    let text = "customer_id,date,item,amount\n\nC1,2024-01-02,peel,100\n\nC1,2024-13-02,peel,100\n"
    let csv = dir.path("bad.csv")
    try text.write(toFile: csv, atomically: true, encoding: .utf8)
    let r = try koi(["stats", csv, "--strict", "--out", dir.path("bad.stats")])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("koi: error: \(csv):5"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.path("bad.stats")))
  }

  @Test func aCustomerInTwoShardsIsRefused() throws {
    let a = "customer_id,date,item,amount\nC1,2024-01-02,peel,100\n"
    let b = "customer_id,date,item,amount\n\nC1,2024-02-02,peel,100\n"
    let stats = try stats([a, b], name: "split")
    let r = try koi(["fit", "--stats"] + stats + ["--out", dir.path("m.json")])
    #expect(r.status == 2)
    #expect(r.stderr.contains("split the input by customer"))
  }
}
