@testable import Koi

extension RunHistory {
  /// Raw id → tags of run `id`, as the history holds them: matched to no
  /// customer, every row is one of `gone`.
  func tagsByID(ofRun id: String) throws -> [String: [String]]? {
    try tags(ofRun: id, customerIDs: []).map { Dictionary(uniqueKeysWithValues: $0.gone.map { ($0.id, $0.tags) }) }
  }
}
