/// The stages of a scoring run, in pipeline order: a stage reads the
/// columns of stages before it (`Stage.reads`), and customers.jsonl carries
/// their fields in this order. Adding a stage is one line here.
public enum StageRegistry {
  public static let standard: [any Stage.Type] = [
    RFMStage.self,
    TierStage.self,
    IntervalStage.self,
    LifetimeStage.self,
  ]

  /// The names of the standard stages, in pipeline order.
  static var standardNames: [StageName] { standard.map { $0.name } }

  /// Whether `stage` is one of the standard stages, whose inputs the run
  /// knows (which ledger columns they read, their shard statistics).
  static func isStandard(_ stage: any Stage.Type) -> Bool { standard.contains { $0 == stage } }
}
