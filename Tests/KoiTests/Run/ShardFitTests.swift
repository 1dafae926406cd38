import Foundation
import Testing

@testable import Koi

/// `koi fit` from per-customer statistics, the shards read one at a time
/// (`ShardFit`), fits what one run fits on every row: stage by stage, with
/// options that change the statistics, and a stage without shard
/// statistics on the merged rows.
@Suite struct ShardFitTests {
  let dir = TemporaryDirectory()
  static let sample = repositoryRoot.appendingPathComponent("datasets/sample/transactions.csv").path

  /// The sample split by customer into `count` shards (interleaved, as a
  /// hash split is), each through `koi stats`; the statistics files.
  func statistics(count: Int) throws -> [String] {
    let text = try String(contentsOfFile: Self.sample, encoding: .utf8)
    return try ShardCommandTests.shards(text, count: count).enumerated().map { k, shard in
      let csv = dir.path("s\(count)-\(k).csv"), path = dir.path("s\(count)-\(k).stats")
      try shard.write(toFile: csv, atomically: true, encoding: .utf8)
      try ShardRun.statistics(ScoreOptions(inputPath: csv, outputDirectory: dir.path("unused"))).write(to: path)
      return path
    }
  }

  /// model.json's bytes and the warnings of a fit on the whole sample.
  func single(_ options: ScoreOptions, stages: [any Stage.Type] = StageRegistry.standard) throws -> (
    [UInt8], [String]
  ) {
    let ingest = try TransactionReader.read(path: Self.sample, options: options.ingest)
    let (model, warnings) = try ScoringRun.fitOnly(options, ingest: ingest, stages: stages)
    return (Array(try JSONEncoder.koi.encode(model)), warnings)
  }

  func sharded(_ options: ScoreOptions, count: Int, stages: [any Stage.Type] = StageRegistry.standard) throws -> (
    [UInt8], [String]
  ) {
    let (model, warnings) = try ShardRun.fit(
      statisticsAt: try statistics(count: count), options: options, stages: stages)
    return (Array(try JSONEncoder.koi.encode(model)), warnings)
  }

  static let variants: [(stages: [StageName], change: String)] = [
    ([.rfm], ""), ([.tiers], ""), ([.intervals], ""), ([.lifetime], ""),
    ([.tiers], "no premium share"), ([.tiers, .intervals], "no propensity"),
  ]

  @Test(arguments: variants.indices)
  func eachStageFitsFromPerCustomerStatisticsAsFromEveryRow(variant: Int) throws {
    let v = Self.variants[variant]
    var options = ScoreOptions(inputPath: Self.sample, outputDirectory: dir.path("unused"))
    options.stages = v.stages
    options.tiers.restarts = 2
    if v.change == "no premium share" { options.tiers.features = [.discountDepth, .promoShare, .breadth, .netSpend] }
    if v.change == "no propensity" { options.intervals.propensity = false }
    let (wholeModel, wholeWarnings) = try single(options)
    for count in [2, 3] {
      let (model, warnings) = try sharded(options, count: count)
      #expect(model == wholeModel, "\(v) in \(count) shards")
      #expect(warnings == wholeWarnings)
    }
  }

  /// `koi fit`'s progress lines: each pass names every shard, in order,
  /// and each fit is named before it runs.
  @Test func progressNamesEveryShardOfBothPassesAndEveryFit() throws {
    var options = ScoreOptions(inputPath: Self.sample, outputDirectory: dir.path("unused"))
    options.tiers.restarts = 2
    var lines: [String] = []
    _ = try ShardRun.fit(statisticsAt: try statistics(count: 3), options: options) { event in
      switch event {
      case let .shard(index, count, pass?): lines.append("pass \(pass) \(index)/\(count)")
      case let .stage(name): lines.append(name)
      default: Issue.record("unexpected \(event)")
      }
    }
    #expect(
      lines == [
        "pass 1 1/3", "pass 1 2/3", "pass 1 3/3", "lifetime", "rfm", "intervals",
        "pass 2 1/3", "pass 2 2/3", "pass 2 3/3", "propensity", "tiers",
      ])
    // One file fits on its rows: it is read, then each stage is fitted.
    lines = []
    _ = try ShardRun.fit(statisticsAt: [try statistics(count: 1)[0]], options: options) { event in
      if case let .stage(name) = event { lines.append(name) } else if case .shard = event { lines.append("read") }
    }
    #expect(lines == ["read"] + StageName.allCases.map(\.rawValue))
  }

  @Test func aStageWithoutShardStatisticsFitsOnTheMergedRows() throws {
    var options = ScoreOptions(inputPath: Self.sample, outputDirectory: dir.path("unused"))
    options.stages = [.rfm, StageShapeTests.VisitStage.name]
    let stages = StageRegistry.standard + [StageShapeTests.VisitStage.self]
    let (wholeModel, _) = try single(options, stages: stages)
    let (model, _) = try sharded(options, count: 3, stages: stages)
    #expect(model == wholeModel)
    #expect(String(decoding: model, as: UTF8.self).contains("mean_visits"))
  }
}
