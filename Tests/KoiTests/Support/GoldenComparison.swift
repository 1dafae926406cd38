import Foundation

/// Compares an output file with its golden copy the way results are portable:
/// every byte outside number literals must be equal (keys, strings, dates,
/// ids, layout), and so must every integer literal; a number literal with a
/// fraction or exponent may differ by
/// ```
/// |a − b| ≤ 1e-9 · max(|a|, |b|)          (last-bit noise of a double)
///        or ≤ one unit in the golden literal's last decimal place
///                                          (a value rounded to 2 or 6 places
///                                           that sits on a rounding boundary)
///        or both |a|, |b| ≤ 1e-12         (rounding noise around zero)
/// ```
/// BLAS kernels and glibc's libm choose code paths by CPU, so the last bits
/// of a double written at full precision are not the same on every x86-64
/// machine; on one machine Koi's output is byte-identical whatever the thread
/// count (`EndToEndTests.rerunIsByteIdentical`).
enum GoldenComparison {
  static let relativeTolerance = 1e-9
  /// Values this close to zero are rounding noise around it, not results
  /// to compare (a fit's gradient at its optimum: 1.6e-14 on one CPU,
  /// 4.5e-14 on another, for the same optimum).
  static let nearZero = 1e-12

  /// The first difference beyond tolerance, described, or nil when the two
  /// texts agree.
  static func firstDifference(produced: [UInt8], golden: [UInt8]) -> String? {
    let a = tokens(produced), b = tokens(golden)
    for (i, (x, y)) in zip(a, b).enumerated() {
      switch (x, y) {
      case (.text(let s), .text(let t)) where s == t: continue
      case (.number(let s), .number(let t)) where agree(s, t): continue
      default:
        let context = b[max(0, i - 3)..<i].map(\.description).joined()
        return "after …\(context.suffix(120)): produced \(x.description.prefix(80)), golden \(y.description.prefix(80))"
      }
    }
    return a.count == b.count ? nil : "produced \(a.count) tokens, golden \(b.count)"
  }

  enum Token: CustomStringConvertible {
    case text(String)
    case number(String)
    var description: String {
      switch self {
      case .text(let s), .number(let s): return s
      }
    }
  }

  /// Splits JSON (or JSON lines, or CSV) into number literals outside
  /// strings and the text between them.
  static func tokens(_ bytes: [UInt8]) -> [Token] {
    var out: [Token] = []
    var text: [UInt8] = []
    var i = 0
    var inString = false
    func isNumberByte(_ c: UInt8) -> Bool {
      (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2D || c == 0x2B || c == 0x65 || c == 0x45
    }
    while i < bytes.count {
      let c = bytes[i]
      if inString {
        text.append(c)
        if c == 0x5C, i + 1 < bytes.count { text.append(bytes[i + 1]); i += 2; continue }
        if c == 0x22 { inString = false }
        i += 1
      } else if c == 0x22 {
        inString = true
        text.append(c)
        i += 1
      } else if (c >= 0x30 && c <= 0x39)
        || (c == 0x2D && i + 1 < bytes.count && bytes[i + 1] >= 0x30 && bytes[i + 1] <= 0x39)
      {
        if !text.isEmpty { out.append(.text(String(decoding: text, as: UTF8.self))); text = [] }
        var j = i
        while j < bytes.count, isNumberByte(bytes[j]) { j += 1 }
        out.append(.number(String(decoding: bytes[i..<j], as: UTF8.self)))
        i = j
      } else {
        text.append(c)
        i += 1
      }
    }
    if !text.isEmpty { out.append(.text(String(decoding: text, as: UTF8.self))) }
    return out
  }

  static func agree(_ produced: String, _ golden: String) -> Bool {
    if produced == golden { return true }
    let isInteger = !golden.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
    guard !isInteger, let a = Double(produced), let b = Double(golden) else { return false }
    let difference = abs(a - b)
    if difference <= relativeTolerance * max(abs(a), abs(b)) { return true }
    if max(abs(a), abs(b)) <= nearZero { return true }
    guard !golden.contains(where: { $0 == "e" || $0 == "E" }), let dot = golden.firstIndex(of: ".") else {
      return false
    }
    let decimals = golden.distance(from: dot, to: golden.endIndex) - 1
    return difference <= 1.000001 * pow(10, -Double(decimals))
  }
}
