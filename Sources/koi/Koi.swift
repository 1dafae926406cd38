import ArgumentParser
import Koi

@main
struct KoiCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "koi",
    abstract: "Customer segmentation and lifetime value for clinic chains.",
    version: Koi.version
  )
}
