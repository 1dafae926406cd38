import Foundation

extension GradientBoostedTrees {
  /// The compact JSON of the trees as `JSONEncoder.koiCompact` writes it
  /// (model.json's `intervals.propensity_trees`): the keys sorted, integers,
  /// booleans, each double as its shortest round-trip `description` without
  /// a trailing ".0" (the encoder's form for every finite double), the
  /// options through the encoder itself; a test compares the two. Written
  /// directly: through the encoder, a 1M-row run's two windows (13,526
  /// nodes) took 0.1 s of a core, a fifth of the write step's processor
  /// time. Non-finite doubles, which the encoder refuses, go to it for its
  /// error.
  func compactText() throws -> String {
    let doubles = [[initialScore, validationLoss ?? 0], nodeThreshold, nodeValue, featureGain]
    guard doubles.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { return try encodedCompactText() }
    let options = String(decoding: try JSONEncoder.koiCompact.encode(options), as: UTF8.self)
    let number = JSONEncoder.numberText
    var o = CompactJSONObject(capacity: 24 * nodeValue.count + 64 * featureCount + options.utf8.count + 256)
    o.field("feature_count", String(featureCount))
    o.list("feature_gain", featureGain, number)
    o.field("initial_score", number(initialScore))
    o.list("node_feature", nodeFeature) { String($0) }
    o.list("node_left", nodeLeft) { String($0) }
    o.list("node_missing_left", nodeMissingLeft) { $0 ? "true" : "false" }
    o.list("node_right", nodeRight) { String($0) }
    o.list("node_threshold", nodeThreshold, number)
    o.list("node_value", nodeValue, number)
    o.field("options", options)
    o.list("tree_roots", treeRoots) { String($0) }
    if let validationLoss { o.field("validation_loss", number(validationLoss)) }
    return o.close()
  }

  /// The text through `JSONEncoder.koiCompact` itself (what `compactText()`
  /// must equal; its tests compare the two).
  func encodedCompactText() throws -> String {
    String(decoding: try JSONEncoder.koiCompact.encode(self), as: UTF8.self)
  }
}
