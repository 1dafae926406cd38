import Foundation

@testable import Koi

/// Loads the committed CDNOW summaries (datasets/cdnow), in weeks.
enum CDNOWData {
  static var datasetDirectory: URL {
    URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("datasets/cdnow")
  }

  /// Columns after the id of every data row.
  static func rows(_ file: String) throws -> [[Double]] {
    let text = try String(contentsOf: datasetDirectory.appendingPathComponent(file), encoding: .utf8)
    return text.split(whereSeparator: \.isNewline).dropFirst().map { line in
      line.split(separator: ",").dropFirst().map { Double($0)! }
    }
  }

  /// The 2,357-customer summary with average repeat spend (zbar), weeks.
  static func summary() throws -> LifetimeSummary {
    let r = try rows("cdnow_customers_summary_with_transactions.csv")
    return LifetimeSummary(
      frequency: r.map { Int32($0[0]) }, recency: r.map { $0[1] }, age: r.map { $0[2] },
      monetaryValue: r.map { $0[3] }, daysPerUnit: 7)
  }
}
