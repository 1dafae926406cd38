/// Why an input row was not used.
public enum RejectReason: String, CaseIterable, Sendable, Codable {
  /// The row has a different number of fields than the header.
  case wrongFieldCount = "wrong_field_count"
  case missingCustomerID = "missing_customer_id"
  case missingItem = "missing_item"
  case badDate = "bad_date"
  case badAmount = "bad_amount"
  case badListPrice = "bad_list_price"
  case badPromo = "bad_promo"
  /// Dated on or after the as-of date.
  case afterAsOf = "after_as_of"
  /// Text after a closing quote, e.g. `"abc"def`.
  case malformedQuotes = "malformed_quotes"
  /// A quoted field still open at the end of the file.
  case unterminatedQuote = "unterminated_quote"
  /// A text field that is not valid in the file's encoding.
  case invalidEncoding = "invalid_encoding"
  /// The row's customer has no purchase before the as-of date (only refunds
  /// or zero amounts), so there is nothing to score.
  case noPurchase = "no_purchase"
  /// An exact copy of a row in an earlier file, dropped with
  /// `--duplicates drop-across-files`.
  case duplicateAcrossFiles = "duplicate_across_files"
  /// A workbook formula cell in a column Koi needs has no saved value.
  case formulaWithoutValue = "formula_without_value"
}

/// One rejected input row: where it was, why, and its text.
public struct Reject: Sendable, Equatable {
  /// 1-based physical line where the record starts.
  public var line: Int
  public var reason: RejectReason
  /// The canonical column at fault, if one is.
  public var field: CanonicalColumn?
  /// What was wrong, in words.
  public var detail: String
  /// The record as it appeared in the file (UTF-8; at most 2,000 bytes).
  public var raw: String
  /// Which input it came from: an index into `IngestResult.files`.
  public var file = 0

  public init(line: Int, reason: RejectReason, field: CanonicalColumn?, detail: String, raw: String, file: Int = 0) {
    self.file = file
    self.line = line
    self.reason = reason
    self.field = field
    self.detail = detail
    self.raw = raw
  }
}
