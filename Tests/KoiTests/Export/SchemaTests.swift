import Foundation
import Testing

@testable import Koi

/// Real output validated against schemas/v1 with Python's jsonschema
/// (schemas/validate.py; .ci/run installs jsonschema when missing).
@Suite struct SchemaTests {
  let dir = TemporaryDirectory()

  func validate(_ schema: String, _ documents: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments =
      [
        "python3", repositoryRoot.appendingPathComponent("schemas/validate.py").path,
        repositoryRoot.appendingPathComponent("schemas/v1/\(schema).schema.json").path,
      ] + documents
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
  }

  @Test func realOutputMatchesTheSchemas() throws {
    var c = try ScheduledRunFixture.config(out: dir.path("out"))
    c.asOf = .date(DayNumber.parse("2025-01-01") ?? 0)
    _ = try ScheduledRun.run(c)
    // A second run: tag_changes with both added and removed, and a previous_run.
    c.asOf = .date(DayNumber.parse("2025-07-01") ?? 0)
    let r = try ScheduledRun.run(c)
    let d = r.runDirectory
    #expect(r.scoring.manifest.tagChanges?.previousRun != nil)
    #expect((r.scoring.manifest.tagChanges?.removed ?? 0) > 0)
    let lists = CampaignListKind.allCases.map { "\(d)/exports/\($0.rawValue).json" }
    for (schema, docs) in [
      ("customers", ["\(d)/customers.jsonl"]), ("segments", ["\(d)/segments.json"]), ("model", ["\(d)/model.json"]),
      ("due", ["\(d)/due.json"]),
      ("run", ["\(d)/run.json"]), ("tags", ["\(d)/exports/tags.jsonl"]), ("campaign-list", lists),
      ("tag-changes", ["\(d)/exports/tag_changes.jsonl"]), ("tag-dictionary", ["\(d)/exports/tag_dictionary.json"]),
    ] {
      let v = try validate(schema, docs)
      #expect(v.status == 0, "\(schema): \(v.output)")
    }
  }

  @Test(arguments: [
    (
      "customers",
      #"{"customer_id":"C1","first_purchase":"2025-01-01","last_purchase":"2025-02-01","tenure_days":10,"recency_days":3,"frequency":2,"monetary":10.00,"average_order_value":5.00,"refunds":0.00,"r_score":5,"f_score":3,"m_score":1,"rfm":"531","segment":"champions","tier":2}"#
    ),
    (
      "customers",
      #"{"customer_id":"C1","first_purchase":"2025-13-45","last_purchase":"2025-02-01","tenure_days":10,"recency_days":3,"frequency":2,"monetary":10.00,"average_order_value":5.00,"refunds":0.00,"r_score":5,"f_score":3,"m_score":1,"rfm":"531","segment":"champions"}"#
    ),
    (
      "customers",
      #"{"customer_id":"C1","first_purchase":"2025-01-01","last_purchase":"2025-02-01","tenure_days":10,"recency_days":0,"frequency":2,"monetary":10.00,"average_order_value":5.00,"refunds":0.00,"r_score":5,"f_score":3,"m_score":1,"rfm":"531","segment":"winners"}"#
    ),
    (
      "campaign-list",
      #"{"list":"win_back","run_id":"x","as_of":"2025-01-01","priority":"p","ids":"raw","contact_cap":0,"entries":[]}"#
    ),
    ("tags", #"{"customer_id":"C1"}"#),
    ("tag-changes", #"{"customer_id":"C1","added":[],"removed":[]}"#),
    ("tag-changes", #"{"customer_id":"C1","added":["vip","vip"],"removed":[]}"#),
    (
      "tag-dictionary",
      #"{"run_id":"r","tags":[{"name":"vip","rule":"vip","category":null,"group":"这是一个超过三十个字符的标签组名称这是一个超过三十个字符的标签组名称","name_zh":null}]}"#
    ),
  ])
  func badDocumentsAreRejected(schema: String, document: String) throws {
    let path = try dir.write("bad.jsonl", document + "\n")
    let v = try validate(schema, [path])
    #expect(v.status == 1, "\(v.output)")
  }
}
