import ArgumentParser
import Foundation
import Koi

/// The documented exit codes (README, `koi --help`).
enum KoiExit {
  static let internalError: Int32 = 1
  static let badInput: Int32 = 2
  static let unreadableInput: Int32 = 3
  static let outputFailed: Int32 = 4
  /// `koi run`: another run holds OUT/.koi.lock; this one did nothing.
  static let locked: Int32 = 5

  /// Prints a one-line error to stderr and turns a library error into the
  /// exit code for it. Argument-parser errors pass through unchanged.
  static func map(_ error: Error) -> Error {
    switch error {
    case let e as IngestError:
      stderrLine("koi: error: \(e)")
      switch e.code {
      case .fileNotFound, .unreadable: return ExitCode(unreadableInput)
      default: return ExitCode(badInput)
      }
    case let e as ConfigError:
      stderrLine("koi: error: \(e)")
      return ExitCode(badInput)
    case let e as RunLockedError:
      stderrLine("koi: error: \(e)")
      return ExitCode(locked)
    case let e as OutputError:
      stderrLine("koi: error: \(e)")
      return ExitCode(outputFailed)
    case is ExitCode, is ValidationError, is CleanExit:
      return error
    default:
      stderrLine("koi: internal error: \(error)")
      return ExitCode(internalError)
    }
  }
}

func stderrLine(_ s: String) {
  FileHandle.standardError.write(Data((s + "\n").utf8))
}
