import Foundation
import Testing

@testable import Koi

/// Runs the real `koi` executable. Golden files live in
/// Fixtures/golden/sample; regenerate them after an intended output change
/// with `KOI_UPDATE_GOLDEN=1 swift test --filter EndToEnd`. They are compared
/// with a stated numeric tolerance (`GoldenComparison`), so the suite passes
/// on any x86-64 CPU and BLAS kernel; on one machine a rerun is byte-identical.
@Suite struct EndToEndTests {
  let dir = TemporaryDirectory()

  static var koiBinary: URL {
    // The test bundle sits next to the products it was built with.
    let products = Bundle(for: BundleMarker.self).bundleURL.deletingLastPathComponent()
    let direct = products.appendingPathComponent("koi")
    if FileManager.default.fileExists(atPath: direct.path) { return direct }
    return Bundle.main.bundleURL.appendingPathComponent("koi")
  }

  struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs the koi binary with `arguments`, feeding `stdin` (none: an empty
  /// standard input, never the test's). Standard input is written and
  /// standard error drained on threads of their own, so a full pipe cannot
  /// stall the child or the test.
  func koi(_ arguments: [String], stdin: [UInt8]? = nil) throws -> Outcome {
    let p = Process()
    p.executableURL = Self.koiBinary
    p.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    let writer = input.fileHandleForWriting
    let bytes = Data(stdin ?? [])
    let fed = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      if !bytes.isEmpty { writer.write(bytes) }
      try? writer.close()
      fed.signal()
    }
    nonisolated(unsafe) var e = Data()
    let drained = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      e = err.fileHandleForReading.readDataToEndOfFile()
      drained.signal()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    fed.wait()
    p.waitUntilExit()
    return Outcome(
      status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
      stderr: String(decoding: e, as: UTF8.self))
  }

  static let sample = repositoryRoot.appendingPathComponent("datasets/sample/transactions.csv").path
  static let golden = repositoryRoot.appendingPathComponent("Tests/KoiTests/Fixtures/golden/sample")

  @Test func scoringTheSampleMatchesGoldenOutput() throws {
    let out = dir.path("out")
    let r = try koi(["score", Self.sample, "--out", out, "--quiet"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("3000 customers"))
    let update = ProcessInfo.processInfo.environment["KOI_UPDATE_GOLDEN"] == "1"
    for name in ["customers.jsonl", "segments.json", "model.json", "rejects.csv", "due.json"] {
      let produced = try Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent(name))
      let goldenURL = Self.golden.appendingPathComponent(name)
      if update {
        try FileManager.default.createDirectory(at: Self.golden, withIntermediateDirectories: true)
        try produced.write(to: goldenURL)
      }
      let expected = try Data(contentsOf: goldenURL)
      // Numbers to a tolerance, everything else byte for byte: the last bits
      // of a double differ between CPUs (see GoldenComparison).
      let difference = GoldenComparison.firstDifference(produced: Array(produced), golden: Array(expected))
      #expect(difference == nil, "\(name) differs from the golden file: \(difference ?? "")")
    }
    let manifest =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
      as? [String: Any]
    let rows = manifest?["rows"] as? [String: Any]
    #expect(rows?["read"] as? Int == 20754)
    #expect((rows?["used"] as? Int ?? 0) + (rows?["rejected"] as? Int ?? 0) == 20754)
    #expect((manifest?["input"] as? [String: Any])?["sha256"] as? String != nil)
    // No temporary files are left behind.
    let left = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }
    #expect(left.isEmpty)
  }

  @Test func rerunIsByteIdentical() throws {
    for name in ["a", "b"] {
      let r = try koi(["score", Self.sample, "--out", dir.path(name), "--quiet", "--as-of", "2025-07-01"])
      #expect(r.status == 0, "\(r.stderr)")
    }
    for f in ["customers.jsonl", "segments.json", "model.json", "rejects.csv", "due.json"] {
      let a = try Data(contentsOf: URL(fileURLWithPath: dir.path("a/" + f)))
      let b = try Data(contentsOf: URL(fileURLWithPath: dir.path("b/" + f)))
      #expect(a == b, "\(f)")
    }
  }

  @Test func exitCodesAreTheDocumentedOnes() throws {
    let missing = try koi(["score", dir.path("nope.csv"), "--out", dir.path("o")])
    #expect(missing.status == 3)
    #expect(missing.stderr.contains("no such file"))
    #expect(!missing.stderr.contains("Backtrace") && !missing.stderr.contains("Fatal"))

    let bad = try dir.write("bad.csv", "customer_id,date,item,amount\na,2025-01-01,x,1\nb,2025-01-01,x,oops\n")
    let strict = try koi(["score", bad, "--out", dir.path("o"), "--strict"])
    #expect(strict.status == 2)
    #expect(strict.stderr.contains("bad.csv:3 (amount)"))

    let lenient = try koi(["score", bad, "--out", dir.path("o"), "--quiet"])
    #expect(lenient.status == 0)

    let noColumn = try dir.write("nocol.csv", "customer_id,date,amount\na,2025-01-01,1\n")
    #expect(try koi(["score", noColumn, "--out", dir.path("o")]).status == 2)

    #expect(try koi(["score", bad, "--out", dir.path("o"), "--margin", "1.5"]).status == 64)
    #expect(try koi(["score", bad, "--out", dir.path("o"), "--k", "1"]).status == 64)
    let badModel = try dir.write("model.json", "{}")
    #expect(try koi(["score", bad, "--out", dir.path("o"), "--init-model", badModel]).status == 2)
    let usage = try koi(["score", bad, "--out", dir.path("o"), "--as-of", "July"])
    #expect(usage.status == 64)
    #expect(usage.stderr.contains("YYYY-MM-DD"))

    let notADirectory = try dir.write("file", "x")
    #expect(try koi(["score", bad, "--out", notADirectory]).status == 4)
  }

  @Test func helpAndVersion() throws {
    let help = try koi(["score", "--help"])
    #expect(help.status == 0)
    for option in [
      "--out", "--as-of", "--column", "--strict", "--encoding", "--stages", "--rfm-bins",
      "--due-within", "--due-min-probability", "--due-limit", "--prior", "--k", "--restarts", "--seed",
      "--init-model", "--tier-features", "--horizon-days", "--discount-rate", "--margin", "--next-within",
      "--no-propensity", "Example",
    ] {
      #expect(help.stdout.contains(option), "score --help lacks \(option)")
    }
    let genHelp = try koi(["generate", "--help"])
    for option in ["--customers", "--seed", "--headers", "--encoding", "--bad-rows", "--start", "--end"] {
      #expect(genHelp.stdout.contains(option), "generate --help lacks \(option)")
    }
    let backtestHelp = try koi(["backtest", "--help"])
    for option in ["--cutoff", "--out", "--column", "--encoding", "--horizon-days", "--prior", "--next-within"] {
      #expect(backtestHelp.stdout.contains(option), "backtest --help lacks \(option)")
    }
    let version = try koi(["--version"])
    #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Koi.version)
  }
}

private final class BundleMarker {}
