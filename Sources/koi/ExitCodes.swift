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
    case let e as ReportError:
      stderrLine("koi: error: \(e)")
      return ExitCode(e.kind == .missing ? unreadableInput : badInput)
    case is ExitCode, is ValidationError, is CleanExit:
      return error
    default:
      stderrLine("koi: internal error: \(error)")
      return ExitCode(internalError)
    }
  }
}

/// Writes one line to stderr. Messages quote user text (paths, header cells,
/// item names, option values), so the line is bounded: control characters
/// escaped, long quoted text cut short (`UserText.boundedLine`).
func stderrLine(_ s: String) {
  FileHandle.standardError.write(Data((UserText.boundedLine(s) + "\n").utf8))
}

/// Warnings after a run: at most `limit` lines on stderr; all of them are in
/// run.json.
func printWarnings(_ warnings: [String], limit: Int = 20) {
  for w in warnings.prefix(limit) { stderrLine("koi: warning: \(w)") }
  if warnings.count > limit {
    stderrLine("koi: warning: … and \(warnings.count - limit) more warnings; run.json lists them all.")
  }
}

extension KoiCommand {
  /// Ends the process for an error that reached `main`. Help and version
  /// requests print as ArgumentParser prints them; an `ExitCode` (its message
  /// already printed by `KoiExit.map`) exits with its code; anything else is
  /// a usage error or an unmapped error, printed as one line
  /// `koi: error: MESSAGE See 'koi COMMAND --help'.`
  static func exitReporting(_ error: Error) -> Never {
    let code = exitCode(for: error)
    if code == .success || error is ExitCode { exit(withError: error) }
    let message = message(for: error)
      .split(whereSeparator: \.isNewline)
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
      .joined(separator: " ")
    let names = Set(configuration.subcommands.map { $0._commandName })
    let command = CommandLine.arguments.dropFirst().first(where: names.contains).map { "koi \($0)" } ?? "koi"
    let sentence = message.isEmpty || ".!?".contains(message.last ?? ".") ? message : message + "."
    stderrLine("koi: error: \(sentence) See '\(command) --help'.")
    Foundation.exit(code.rawValue)
  }
}
