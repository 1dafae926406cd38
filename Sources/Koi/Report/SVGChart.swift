import Foundation

/// Text made safe for HTML and SVG: text content and attribute values.
func htmlEscaped(_ s: String) -> String {
  var out = ""
  out.reserveCapacity(s.utf8.count)
  for ch in s.unicodeScalars {
    switch ch {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    default:
      // Control characters have no place in a report.
      if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(ch) }
    }
  }
  return out
}

/// A table of values shown under (or behind) a chart: the accessible form
/// of its marks.
struct ReportTable: Sendable {
  var headers: [String]
  var rows: [[String]]
  /// Numeric columns are right-aligned.
  var numeric: [Bool] = []
}

/// One rendered chart: inline SVG, its data as a table, and how many marks
/// it drew (0: the chart is empty, which the browser test rejects).
struct Chart: Sendable {
  var svg: String
  var table: ReportTable
  var marks: Int
}

/// Okabe–Ito, the palette distinguishable with every common form of colour
/// blindness (Okabe & Ito, "Color Universal Design", 2002).
enum Palette {
  static let categorical = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

  /// A sequential ramp from near-white to Okabe–Ito blue for heat maps
  /// (lightness alone carries the value, so it reads in grey print too).
  static func sequential(_ t: Double) -> String {
    let u = max(0, min(1, t.isFinite ? t : 0))
    let from = (247.0, 251.0, 255.0)
    let to = (8.0, 48.0, 107.0)
    func mix(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * u).rounded()) }
    return String(format: "#%02lX%02lX%02lX", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
  }
}

/// Approximate text width in pixels for layout: CJK characters are one em,
/// others about 0.6 em.
func textWidth(_ s: String, fontSize: Double) -> Double {
  var w = 0.0
  for ch in s.unicodeScalars { w += (ch.value >= 0x2E80 ? 1.0 : 0.6) * fontSize }
  return w
}

/// Builds the SVG of the report's charts. Every chart is `width` wide in
/// user units (scaled to the page by CSS), with axes labelled with units and
/// a `<title>` on every mark.
struct SVGCharts {
  let language: ReportLanguage
  var width = 860.0
  let font = 13.0

  private func fmt(_ x: Double) -> String { String(format: "%.1f", x) }

  private func open(_ height: Double, label: String) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" role=\"img\" aria-label=\"\(htmlEscaped(label))\" font-size=\"\(fmt(font))\">"
  }

  private func text(
    _ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Double? = nil, fill: String = "#222",
    extra: String = ""
  ) -> String {
    "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\"\(size.map { " font-size=\"\(fmt($0))\"" } ?? "")\(extra)>\(htmlEscaped(s))</text>"
  }

  /// Colour swatches with names, wrapped onto as many lines as needed
  /// (`legendHeight` gives their height); series 9 and later are dashed.
  private func legend(_ names: [String], x: Double, y: Double, right: Double? = nil) -> String {
    var out = ""
    var cx = x
    var cy = y
    let limit = right ?? width - 10
    for (i, n) in names.enumerated() {
      let w = 16 + textWidth(n, fontSize: font) + 18
      if cx + w > limit && cx > x { cx = x; cy += 18 }
      let colour = Palette.categorical[i % 8]
      if i >= 8 {
        out +=
          "<line x1=\"\(fmt(cx))\" y1=\"\(fmt(cy - 4))\" x2=\"\(fmt(cx + 12))\" y2=\"\(fmt(cy - 4))\" stroke=\"\(colour)\" stroke-width=\"3\" stroke-dasharray=\"3 2\"/>"
      } else {
        out += "<rect x=\"\(fmt(cx))\" y=\"\(fmt(cy - 10))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>"
      }
      out += text(cx + 16, cy, n)
      cx += w
    }
    return out
  }

  /// Height the legend of `names` takes from `x` to `right`.
  private func legendHeight(_ names: [String], x: Double, right: Double) -> Double {
    guard names.count > 1 else { return 0 }
    var cx = x
    var lines = 1.0
    for n in names {
      let w = 16 + textWidth(n, fontSize: font) + 18
      if cx + w > right && cx > x { cx = x; lines += 1 }
      cx += w
    }
    return lines * 18 + 6
  }

  /// A label in one line, or two when it is wider than `room` (split at
  /// a comma or space near the middle, else in the middle).
  private func columnLabel(_ x: Double, _ y: Double, _ s: String, room: Double) -> String {
    guard textWidth(s, fontSize: 11) > room, s.count > 1 else { return text(x, y, s, anchor: "middle", size: 11) }
    let chars = Array(s)
    var cut = chars.count / 2
    if let i = chars.indices.filter({ "，, ".contains(chars[$0]) }).min(by: { abs($0 - cut) < abs($1 - cut) }) {
      cut = i + 1
    }
    let a = String(chars[..<cut]).trimmingCharacters(in: .whitespaces)
    let b = String(chars[cut...]).trimmingCharacters(in: .whitespaces)
    return text(x, y - 13, a, anchor: "middle", size: 11) + text(x, y, b, anchor: "middle", size: 11)
  }

  /// Horizontal bars, one group per category and one bar per series
  /// (or stacked: one bar per category, series end to end).
  func bars(
    categories: [String], series: [(name: String, values: [Double])], unit: ReportUnit, axisTitle: String,
    stacked: Bool = false, label: String
  ) -> Chart {
    let labelW = min(260, (categories.map { textWidth($0, fontSize: font) }.max() ?? 0) + 12)
    let left = labelW + 8
    let right = 70.0
    let top = 12 + legendHeight(series.map(\.name), x: left, right: width - 10)
    let perBar = stacked ? 18.0 : 14.0
    let groupH = stacked ? 26.0 : Double(series.count) * perBar + 10
    let plotH = max(groupH, Double(categories.count) * groupH)
    let height = top + plotH + 44
    var maxV = 0.0
    var minV = 0.0
    for c in categories.indices {
      if stacked {
        maxV = max(maxV, series.reduce(0) { $0 + max(0, $1.values[c]) })
      } else {
        for s in series {
          maxV = max(maxV, s.values[c])
          minV = min(minV, s.values[c])
        }
      }
    }
    let ticks = AxisTicks.nice(low: minV, high: maxV)
    let x = LinearScale(domain: ticks.first!...ticks.last!, range: (left, width - right))
    var svg = open(height, label: label)
    if series.count > 1 { svg += legend(series.map(\.name), x: left, y: 18) }
    for t in ticks {
      let px = x(t)
      svg += "<line x1=\"\(fmt(px))\" y1=\"\(fmt(top))\" x2=\"\(fmt(px))\" y2=\"\(fmt(top + plotH))\" stroke=\"#ddd\"/>"
      svg += text(
        px, top + plotH + 16, tickLabel(t, unit: unit), anchor: "middle",
        size: 11)
    }
    svg += text((left + width - right) / 2, top + plotH + 36, axisTitle, anchor: "middle")
    var marks = 0
    for (c, name) in categories.enumerated() {
      let gy = top + Double(c) * groupH
      svg += text(left - 8, gy + groupH / 2 + 4, name, anchor: "end")
      var offset = 0.0
      for (s, ser) in series.enumerated() {
        let v = ser.values[c]
        guard v.isFinite else { continue }
        let y0: Double
        let x0: Double
        let x1: Double
        if stacked {
          y0 = gy + 4
          x0 = x(offset)
          x1 = x(offset + max(0, v))
          offset += max(0, v)
        } else {
          y0 = gy + 5 + Double(s) * perBar
          x0 = x(min(0, v))
          x1 = x(max(0, v))
        }
        let h = stacked ? groupH - 8 : perBar - 2
        let tip = "\(name) · \(ser.name): \(language.value(v, unit: unit))"
        svg +=
          "<rect class=\"mark\" x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(max(0.5, x1 - x0)))\" height=\"\(fmt(h))\" fill=\"\(Palette.categorical[s % 8])\"><title>\(htmlEscaped(tip))</title></rect>"
        marks += 1
        if !stacked { svg += text(x1 + 4, y0 + h - 2, language.value(v, unit: unit), size: 10.5, fill: "#444") }
      }
    }
    svg +=
      "<line x1=\"\(fmt(x(0)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(x(0)))\" y2=\"\(fmt(top + plotH))\" stroke=\"#555\"/>"
    svg += "</svg>"
    let table = ReportTable(
      headers: [""] + series.map(\.name),
      rows: categories.indices.map { c in [categories[c]] + series.map { language.value($0.values[c], unit: unit) } },
      numeric: [false] + series.map { _ in true })
    return Chart(svg: svg, table: table, marks: marks)
  }

  /// An axis tick: money in the compact form (`¥200万`, `¥2M`) so ticks
  /// never run into each other.
  private func tickLabel(_ t: Double, unit: ReportUnit) -> String {
    unit == .money ? language.compactMoney(t) : language.value(t, unit: unit)
  }

  /// A grid of cells coloured by value (sequential palette), the value
  /// written in each cell.
  func heatMap(
    rows: [String], columns: [String], values: [[Double]], unit: ReportUnit, rowTitle: String, columnTitle: String,
    label: String, cellWidth: Double? = nil
  ) -> Chart {
    let labelW = min(240, (rows.map { textWidth($0, fontSize: font) }.max() ?? 0) + 12)
    let left = labelW + 30
    let top = 58.0
    let plotW = width - left - 16
    let cw = cellWidth ?? plotW / Double(max(1, columns.count))
    let ch = 30.0
    let height = top + Double(rows.count) * ch + 12
    let maxV = values.flatMap { $0 }.filter(\.isFinite).max() ?? 0
    var svg = open(height, label: label)
    svg += text(left + cw * Double(columns.count) / 2, 14, columnTitle, anchor: "middle")
    svg += text(
      12, top + Double(rows.count) * ch / 2, rowTitle, anchor: "middle",
      extra: " transform=\"rotate(-90 12 \(fmt(top + Double(rows.count) * ch / 2)))\"")
    for (j, c) in columns.enumerated() {
      svg += columnLabel(left + (Double(j) + 0.5) * cw, top - 8, c, room: cw - 4)
    }
    var marks = 0
    for (i, r) in rows.enumerated() {
      let y = top + Double(i) * ch
      svg += text(left - 8, y + ch / 2 + 4, r, anchor: "end")
      for (j, c) in columns.enumerated() {
        let v = values[i][j]
        let t = maxV > 0 ? v / maxV : 0
        let x = left + Double(j) * cw
        let tip = "\(r) · \(c): \(language.value(v, unit: unit))"
        svg +=
          "<rect class=\"mark\" x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(cw - 1))\" height=\"\(fmt(ch - 1))\" fill=\"\(Palette.sequential(t))\"><title>\(htmlEscaped(tip))</title></rect>"
        marks += 1
        let label = unit == .money ? language.compactMoney(v) : language.value(v, unit: unit)
        if textWidth(label, fontSize: 10.5) < cw - 2 {
          svg += text(x + cw / 2, y + ch / 2 + 4, label, anchor: "middle", size: 10.5, fill: t > 0.55 ? "#fff" : "#222")
        }
      }
    }
    svg += "</svg>"
    let table = ReportTable(
      headers: [rowTitle + " \\ " + columnTitle] + columns,
      rows: rows.indices.map { i in [rows[i]] + values[i].map { language.value($0, unit: unit) } },
      numeric: [false] + columns.map { _ in true })
    return Chart(svg: svg, table: table, marks: marks)
  }

  /// Vertical bars of equal-width bins.
  func histogram(_ bins: BinnedCounts, xTitle: String, yTitle: String, label: String, binLabel: (Int) -> String)
    -> Chart
  {
    let left = 64.0
    let top = 12.0
    let plotH = 220.0
    let height = top + plotH + 50
    let maxC = Double(bins.counts.max() ?? 0)
    let yTicks = AxisTicks.nice(low: 0, high: maxC)
    let y = LinearScale(domain: 0...yTicks.last!, range: (top + plotH, top))
    let x = LinearScale(domain: bins.lower...bins.upper, range: (left, width - 16))
    var svg = open(height, label: label)
    for t in yTicks {
      svg +=
        "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(t)))\" x2=\"\(fmt(width - 16))\" y2=\"\(fmt(y(t)))\" stroke=\"#ddd\"/>"
      svg += text(left - 6, y(t) + 4, language.count(Int(t)), anchor: "end", size: 11)
    }
    for t in AxisTicks.nice(low: bins.lower, high: bins.upper) {
      svg += text(x(t), top + plotH + 16, language.number(t, decimals: 2), anchor: "middle", size: 11)
    }
    svg += text((left + width) / 2, top + plotH + 38, xTitle, anchor: "middle")
    svg += text(
      14, top + plotH / 2, yTitle, anchor: "middle", extra: " transform=\"rotate(-90 14 \(fmt(top + plotH / 2)))\"")
    var marks = 0
    for i in bins.counts.indices {
      let (a, b) = bins.edges(i)
      let c = Double(bins.counts[i])
      let tip = "\(binLabel(i)): \(language.count(bins.counts[i]))"
      svg +=
        "<rect class=\"mark\" x=\"\(fmt(x(a) + 1))\" y=\"\(fmt(y(c)))\" width=\"\(fmt(max(0.5, x(b) - x(a) - 2)))\" height=\"\(fmt(max(0, y(0) - y(c))))\" fill=\"\(Palette.categorical[0])\"><title>\(htmlEscaped(tip))</title></rect>"
      marks += 1
    }
    svg +=
      "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(0)))\" x2=\"\(fmt(width - 16))\" y2=\"\(fmt(y(0)))\" stroke=\"#555\"/>"
    svg += "</svg>"
    let table = ReportTable(
      headers: [xTitle, yTitle], rows: bins.counts.indices.map { [binLabel($0), language.count(bins.counts[$0])] },
      numeric: [false, true])
    return Chart(svg: svg, table: table, marks: marks)
  }

  /// Lines over a numeric x axis; optional shaded x-band and vertical
  /// markers (a density with its P10–P90 and median). `xLabels` replaces
  /// numeric x tick labels with names at x = 0, 1, 2 … (runs over time).
  func lines(
    series: [(name: String, points: [(x: Double, y: Double)])], xUnit: ReportUnit, yUnit: ReportUnit,
    xTitle: String, yTitle: String, label: String, height plotH: Double = 220, xLabels: [String]? = nil,
    band: (Double, Double, String)? = nil, markers: [(Double, String)] = [], diagonal: Bool = false,
    table: ReportTable? = nil, chartWidth: Double? = nil, yTickLabels: Bool = true
  ) -> Chart {
    let w = chartWidth ?? width
    let left = yTickLabels ? 70.0 : 20.0
    let top = 14 + legendHeight(series.map(\.name), x: left, right: w - 10)
    let height = top + plotH + 50
    let xs = series.flatMap { $0.points.map(\.x) }
    let ys = series.flatMap { $0.points.map(\.y) }
    // A diagonal (Lorenz, calibration) needs the unit square.
    let xTicks =
      xLabels != nil
      ? [] : diagonal ? AxisTicks.nice(low: 0, high: 1) : AxisTicks.nice(low: xs.min() ?? 0, high: xs.max() ?? 1)
    let xDomain =
      xLabels.map { -0.3...Double(max(1, $0.count) - 1) + 0.3 } ?? (xTicks.first ?? 0)...(xTicks.last ?? 1)
    let yTicks =
      diagonal
      ? AxisTicks.nice(low: 0, high: 1, count: 4)
      : AxisTicks.nice(low: min(0, ys.min() ?? 0), high: ys.max() ?? 1, count: 4)
    let x = LinearScale(domain: xDomain, range: (left, w - 20))
    let y = LinearScale(domain: yTicks.first!...yTicks.last!, range: (top + plotH, top))
    var svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(w)) \(fmt(height))\" role=\"img\" aria-label=\"\(htmlEscaped(label))\" font-size=\"\(fmt(font))\">"
    if series.count > 1 { svg += legend(series.map(\.name), x: left, y: 18, right: w - 10) }
    if let band {
      svg +=
        "<rect x=\"\(fmt(x(band.0)))\" y=\"\(fmt(top))\" width=\"\(fmt(max(0, x(band.1) - x(band.0))))\" height=\"\(fmt(plotH))\" fill=\"#E69F00\" fill-opacity=\"0.18\"><title>\(htmlEscaped(band.2))</title></rect>"
    }
    for t in yTicks {
      svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(t)))\" x2=\"\(fmt(w - 20))\" y2=\"\(fmt(y(t)))\" stroke=\"#ddd\"/>"
      if yTickLabels { svg += text(left - 6, y(t) + 4, tickLabel(t, unit: yUnit), anchor: "end", size: 11) }
    }
    if let xLabels {
      let every = max(1, Int((Double(xLabels.count) * 80 / (w - left)).rounded(.up)))
      for (i, l) in xLabels.enumerated() where i % every == 0 || i == xLabels.count - 1 {
        svg += text(x(Double(i)), top + plotH + 16, l, anchor: "middle", size: 11)
      }
    } else {
      for t in xTicks {
        svg += text(x(t), top + plotH + 16, language.value(t, unit: xUnit), anchor: "middle", size: 11)
      }
    }
    svg += text((left + w) / 2, top + plotH + 38, xTitle, anchor: "middle")
    if yTickLabels {
      svg += text(
        14, top + plotH / 2, yTitle, anchor: "middle", extra: " transform=\"rotate(-90 14 \(fmt(top + plotH / 2)))\"")
    }
    if diagonal {
      svg +=
        "<line x1=\"\(fmt(x(0)))\" y1=\"\(fmt(y(0)))\" x2=\"\(fmt(x(1)))\" y2=\"\(fmt(y(1)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>"
    }
    var marks = 0
    for (s, ser) in series.enumerated() where !ser.points.isEmpty {
      let colour = Palette.categorical[s % 8]
      let d = ser.points.enumerated().map { (i, p) in (i == 0 ? "M" : "L") + fmt(x(p.x)) + " " + fmt(y(p.y)) }
        .joined(separator: " ")
      let dash = s >= 8 ? " stroke-dasharray=\"6 3\"" : ""
      svg +=
        "<path class=\"mark\" d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2.5\"\(dash)><title>\(htmlEscaped(ser.name))</title></path>"
      marks += 1
      if ser.points.count <= 24 {
        for p in ser.points {
          let xl = xLabels.flatMap { i in Int(p.x) < i.count ? i[Int(p.x)] : nil } ?? language.value(p.x, unit: xUnit)
          svg +=
            "<circle cx=\"\(fmt(x(p.x)))\" cy=\"\(fmt(y(p.y)))\" r=\"3.5\" fill=\"\(colour)\"><title>\(htmlEscaped("\(ser.name) · \(xl): \(language.value(p.y, unit: yUnit))"))</title></circle>"
        }
      }
    }
    for (mx, ml) in markers {
      svg +=
        "<line x1=\"\(fmt(x(mx)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(x(mx)))\" y2=\"\(fmt(top + plotH))\" stroke=\"#D55E00\" stroke-width=\"1.5\"><title>\(htmlEscaped(ml))</title></line>"
      svg += text(x(mx) + 3, top + 11, ml, size: 10.5, fill: "#D55E00")
    }
    svg +=
      "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top + plotH))\" x2=\"\(fmt(w - 20))\" y2=\"\(fmt(top + plotH))\" stroke=\"#555\"/>"
    svg += "</svg>"
    let defaultTable = ReportTable(
      headers: [xTitle] + series.map(\.name),
      rows: (series.first?.points.indices).map { idx in
        idx.map { i in
          let p = series[0].points[i]
          let xl = xLabels.flatMap { l in Int(p.x) < l.count ? l[Int(p.x)] : nil } ?? language.value(p.x, unit: xUnit)
          return [xl] + series.map { i < $0.points.count ? language.value($0.points[i].y, unit: yUnit) : "" }
        }
      } ?? [],
      numeric: [false] + series.map { _ in true })
    return Chart(svg: svg, table: table ?? defaultTable, marks: marks)
  }

  /// Points on two axes in [−1, 1] × [−1, 1] with quadrant lines (the
  /// tiers' positions), each a circle whose area is its share.
  func quadrants(
    points: [(name: String, x: Double, y: Double, share: Double)], xTitle: (String, String),
    yTitle: (String, String), label: String
  ) -> Chart {
    let size = 380.0
    let left = (width - size) / 2
    let top = 30.0
    let height = top + size + 40
    let lim = max(1, (points.flatMap { [abs($0.x), abs($0.y)] }.max() ?? 1) * 1.15)
    let x = LinearScale(domain: -lim...lim, range: (left, left + size))
    let y = LinearScale(domain: -lim...lim, range: (top + size, top))
    var svg = open(height, label: label)
    svg +=
      "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(size))\" height=\"\(fmt(size))\" fill=\"none\" stroke=\"#999\"/>"
    svg +=
      "<line x1=\"\(fmt(x(0)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(x(0)))\" y2=\"\(fmt(top + size))\" stroke=\"#999\"/>"
    svg +=
      "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(0)))\" x2=\"\(fmt(left + size))\" y2=\"\(fmt(y(0)))\" stroke=\"#999\"/>"
    svg += text(left - 6, y(0) + 4, xTitle.0, anchor: "end")
    svg += text(left + size + 6, y(0) + 4, xTitle.1)
    svg += text(x(0), top - 10, yTitle.1, anchor: "middle")
    svg += text(x(0), top + size + 20, yTitle.0, anchor: "middle")
    var marks = 0
    for (i, p) in points.enumerated() {
      let r = 6 + 30 * Foundation.sqrt(max(0, p.share))
      let tip = "\(p.name): \(language.percent(p.share)) · (\(language.number(p.x)), \(language.number(p.y)))"
      svg +=
        "<circle class=\"mark\" cx=\"\(fmt(x(p.x)))\" cy=\"\(fmt(y(p.y)))\" r=\"\(fmt(r))\" fill=\"\(Palette.categorical[i % 8])\" fill-opacity=\"0.75\" stroke=\"#222\"><title>\(htmlEscaped(tip))</title></circle>"
      svg += text(x(p.x), y(p.y) + r + 14, p.name, anchor: "middle", size: 11.5)
      marks += 1
    }
    svg += "</svg>"
    let table = ReportTable(
      headers: ["", xTitle.0 + " ↔ " + xTitle.1, yTitle.0 + " ↔ " + yTitle.1, "%"],
      rows: points.map { [$0.name, language.number($0.x), language.number($0.y), language.percent($0.share)] },
      numeric: [false, true, true, true])
    return Chart(svg: svg, table: table, marks: marks)
  }
}
