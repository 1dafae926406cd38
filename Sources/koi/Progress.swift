import Foundation
import Koi

#if canImport(Glibc)
  import Glibc
#endif

/// Shows progress on stderr: a rewritten status line on a terminal, plain
/// `koi: …` log lines otherwise (cron, CI, a pipe), never on stdout.
final class ProgressReporter {
  private let isTerminal = isatty(2) == 1
  private let quiet: Bool
  private var lastPercent = -1
  private let start = Date()

  init(quiet: Bool) { self.quiet = quiet }

  func callAsFunction(_ event: ProgressEvent) {
    if quiet { return }
    switch event {
    case let .reading(read, total):
      let percent = total > 0 ? Int(100 * read / total) : 100
      if isTerminal {
        if percent != lastPercent {
          FileHandle.standardError.write(
            Data(String(format: "\rreading %3d%%  %.0f MB", percent, Double(read) / 1e6).utf8))
        }
      } else if percent / 25 != lastPercent / 25 || percent == 100 && lastPercent != 100 {
        log("read \(percent)% (\(read) of \(total) bytes)")
      }
      lastPercent = percent
    case let .stage(name):
      log("stage \(name)")
    case let .writing(name):
      log("writing \(name)")
    case let .shard(index, count, pass):
      log((pass.map { "pass \($0): " } ?? "") + "shard \(index) of \(count)")
    }
  }

  private func log(_ message: String) {
    let t = String(format: "%.2f", Date().timeIntervalSince(start))
    if isTerminal {
      FileHandle.standardError.write(Data("\r\u{1B}[K[\(t)s] \(message)\n".utf8))
    } else {
      stderrLine("koi: t=\(t)s \(message)")
    }
  }
}
