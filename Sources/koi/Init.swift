import ArgumentParser
import Foundation
import Koi

struct Init: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Write a commented example configuration for `koi run`.",
    discussion: """
      Writes PATH (default koi.toml); refuses to overwrite an existing file unless --force.

      Example:
        koi init /etc/koi/chain.toml
      """
  )

  @Argument(help: ArgumentHelp("Where to write the configuration.", valueName: "path"))
  var path = "koi.toml"

  @Flag(name: .long, help: "Overwrite an existing file.")
  var force = false

  func run() throws {
    if FileManager.default.fileExists(atPath: path) && !force {
      throw ValidationError("\(path) exists; pass --force to overwrite it.")
    }
    do {
      try AtomicFile.write(Array(RunConfig.exampleTOML.utf8), to: path)
      print("koi: wrote \(path); edit [input] path and output_directory, then: koi run --config \(path)")
    } catch {
      throw KoiExit.map(error)
    }
  }
}
