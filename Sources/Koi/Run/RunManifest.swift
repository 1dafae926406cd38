/// run.json: what a run read, what it did with every row, how long each
/// stage took, and with which options. Everything but `seconds`,
/// `started_at` and `finished_at` is identical for identical input and
/// options.
public struct RunManifest: Sendable, Codable {
  public struct Input: Sendable, Codable {
    public var path: String
    public var sha256: String
    public var bytes: Int64
    public var encoding: String
    public var encodingDetected: Bool
    /// Canonical column → header cell it was read from.
    public var columns: [String: String]
    /// Every input read, in read order: a file, or a sheet of a workbook.
    public var files: [IngestedFile]?
    /// Rows repeated across inputs; only when the input could be several.
    var duplicatesAcrossFiles: DuplicateReport?
  }

  var koiVersion: String
  public var command: String
  var startedAt: String
  var finishedAt: String
  public var input: Input
  public var asOf: String
  /// "option" when given with --as-of, "last_transaction_plus_one" otherwise.
  var asOfSource: String
  public var rows: RowCounts
  public var customers: Int
  public var categories: Int
  public var stages: [String]
  public var options: [String: String]
  /// Wall-clock seconds per step: ingest, each stage, tags, write, total.
  public var seconds: [String: Double]
  var outputs: [String]
  public var warnings: [String]
  /// `koi run` only: the totals of exports/tag_changes.jsonl.
  var tagChanges: TagChangeSummary?
  /// `koi run` only: earlier runs' predictions checked by this run.
  public var predictionChecks: [PredictionCheck]?
}
