import Foundation
import Testing

@testable import Koi

/// Koi against scikit-learn on the fixture written by
/// `benchmarks/reference/kmeans_sklearn.py` (same points, same k and restarts;
/// different random streams, so only the inertia is compared).
@Suite struct KMeansReferenceTests {
  struct Reference: Decodable {
    struct Case: Decodable { let k: Int; let n_init: Int; let inertia: Double }
    let rows: Int
    let features: Int
    let cases: [Case]
  }

  static func fixture(_ name: String) throws -> URL {
    URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/kmeans/\(name)")
  }

  static func loadMatrix() throws -> FeatureMatrix {
    let text = try String(contentsOf: fixture("matrix.csv"), encoding: .utf8)
    let rows = text.split(separator: "\n").dropFirst().map { line in
      line.split(separator: ",").map { Double($0)! }
    }
    return FeatureMatrix(rows: rows)
  }

  @Test func inertiaWithinHalfAPercentOfScikitLearn() throws {
    let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.fixture("sklearn_reference.json")))
    let m = try Self.loadMatrix()
    #expect(m.count == ref.rows && m.featureCount == ref.features)
    for c in ref.cases {
      let r = try KMeans.fit(m, options: KMeansOptions(k: c.k, restarts: c.n_init, seed: 0))
      let rel = (r.inertia - c.inertia) / c.inertia
      #expect(abs(rel) <= 0.005, "k = \(c.k): Koi \(r.inertia), sklearn \(c.inertia)")
    }
  }
}
