/// Koi's engine: from a transaction history to per-customer RFM scores,
/// price-sensitivity tiers, repurchase intervals and lifetime value.
public enum Koi {
  /// The engine version, written into run.json and model.json.
  public static let version = "0.1.0"
}
