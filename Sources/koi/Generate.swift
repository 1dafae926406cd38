import ArgumentParser
import Koi

struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Generate sample transactions with ground truth.")
  func run() throws {}
}
