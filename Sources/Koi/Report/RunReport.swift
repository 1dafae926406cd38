import Foundation
import Mustache

/// report.html: one self-contained page (inline SVG and CSS, no script, no
/// font or image fetched from anywhere, a Content-Security-Policy that
/// forbids both) that a chain's operations director can open offline,
/// print on A4, and read in Chinese or English.
///
/// Made from aggregates only (customers.jsonl is streamed into sums and
/// histograms), so its size does not grow with the customer count; it
/// names no customer.
public enum RunReport {
  /// What `write` produced.
  public struct Written: Sendable {
    public var path: String
    public var bytes: Int
  }

  /// The page for the run directory `directory`. `history`: earlier
  /// scheduled runs (found next to the run directory when nil and the run
  /// is one of `koi run`'s). `scoring`: the run that just wrote `directory`;
  /// its customers are then aggregated from its columns, not read back from
  /// customers.jsonl (the same page, without reading 1.4 GB at 10M rows).
  public static func render(
    directory: String, language: ReportLanguage, history: ReportHistory? = nil, scoring: ScoringResult? = nil
  ) throws -> String {
    // A `koi backtest` directory has backtest.json and no run.json.
    let fm = FileManager.default
    if !fm.fileExists(atPath: directory + "/run.json") && fm.fileExists(atPath: directory + "/backtest.json") {
      let b = try BacktestInputs.read(directory: directory)
      let content = BacktestContent(inputs: b, language: language)
      let subtitle = [
        language(.cutoff) + " " + (b.cutoff ?? "—"),
        language(.generatedBy) + " " + (b.koiVersion ?? "") + " · backtest",
      ].joined(separator: " · ")
      return page(title: language(.backtestTitle), subtitle: subtitle, sections: content.sections, language: language)
    }
    let history = try history ?? findHistory(directory: directory)
    let inputs = try ReportInputs.read(directory: directory, previous: history?.previousCustomers, scoring: scoring)
    let content = ReportContent(inputs: inputs, history: history, language: language)
    return page(content: content)
  }

  /// Renders and writes the page atomically to `out` (default
  /// `directory/report.html`): readers see the previous page or the whole
  /// new one.
  @discardableResult
  public static func write(
    directory: String, to out: String? = nil, language: ReportLanguage, history: ReportHistory? = nil,
    scoring: ScoringResult? = nil
  ) throws -> Written {
    let html = try render(directory: directory, language: language, history: history, scoring: scoring)
    let path = out ?? directory + "/report.html"
    let bytes = Array(html.utf8)
    try AtomicFile.write(bytes, to: path)
    return Written(path: path, bytes: bytes.count)
  }

  /// A `koi run` run directory is `OUT/runs/<id>`; its history is
  /// `OUT/history.sqlite`.
  static func findHistory(directory: String) throws -> ReportHistory? {
    let url = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath()
    let id = url.lastPathComponent
    let runs = url.deletingLastPathComponent()
    guard runs.lastPathComponent == "runs" else { return nil }
    let db = runs.deletingLastPathComponent().appendingPathComponent("history.sqlite").path
    guard FileManager.default.fileExists(atPath: db) else { return nil }
    return try ReportHistory.load(path: db, runID: id.hasPrefix(".partial-") ? String(id.dropFirst(9)) : id)
  }

  static func page(content: ReportContent) -> String {
    let lang = content.language
    let inputs = content.inputs
    let subtitle = [
      lang(.asOf) + " " + (inputs.run.asOf ?? "—"),
      lang(.customers) + " " + lang.count(inputs.run.customers ?? 0),
      lang(.generatedBy) + " " + (inputs.run.koiVersion ?? "") + " · " + (inputs.run.command ?? ""),
    ].joined(separator: " · ")
    return page(title: lang(.title), subtitle: subtitle, sections: content.sections, language: lang)
  }

  static func page(title: String, subtitle: String, sections: [ReportSection], language lang: ReportLanguage) -> String
  {
    func table(_ t: ReportTable) -> [String: Any] {
      [
        "headers": t.headers,
        "rows": t.rows.map { row in
          [
            "cells": row.indices.map { i in
              ["text": row[i], "num": i < t.numeric.count && t.numeric[i]] as [String: Any]
            }
          ]
        },
      ]
    }
    let sectionContexts: [[String: Any]] = sections.map { s in
      [
        "id": s.id, "title": s.title, "guide": s.guide, "missing": s.missing,
        "hasFigures": !s.figures.isEmpty,
        "figures": s.figures.map { ["label": $0.label, "value": $0.value] },
        "groups": s.groups.map { g in
          [
            "columns": g.columns, "heading": g.title.map { [$0] } ?? [],
            "figures": g.figures.map { f in
              ["title": f.title, "svg": f.chart.svg, "table": table(f.chart.table), "dataTable": lang(.dataTable)]
                as [String: Any]
            },
          ] as [String: Any]
        },
        "tables": s.tables.map { ["title": $0.title, "table": table($0.table)] as [String: Any] },
        "notes": s.notes,
      ]
    }
    let context: [String: Any] = [
      "lang": lang == .zh ? "zh-CN" : "en", "title": title, "subtitle": subtitle, "css": css,
      "sections": sectionContexts,
    ]
    return templates.render(context, withTemplate: "page") ?? ""
  }

  /// The templates, compiled once; they are constants of this file, so a
  /// parse error is a programmer error caught by every test that renders.
  static let templates: MustacheLibrary = {
    var library = MustacheLibrary()
    do {
      try library.register(pageTemplate, named: "page")
      try library.register(tableTemplate, named: "table")
    } catch {
      preconditionFailure("report template: \(error)")
    }
    return library
  }()

  static let tableTemplate = """
    <table>{{#table}}<thead><tr>{{#headers}}<th>{{.}}</th>{{/headers}}</tr></thead><tbody>{{#rows}}<tr>{{#cells}}<td{{#num}} class="num"{{/num}}>{{text}}</td>{{/cells}}</tr>{{/rows}}</tbody>{{/table}}</table>
    """

  static let pageTemplate = """
    <!DOCTYPE html>
    <html lang="{{lang}}">
    <head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}}</title>
    <style>{{{css}}}</style>
    </head>
    <body>
    <header><h1>{{title}}</h1><p class="meta">{{subtitle}}</p>
    <nav>{{#sections}}<a href="#{{id}}">{{title}}</a> {{/sections}}</nav></header>
    <main>
    {{#sections}}
    <section id="{{id}}">
    <h2>{{title}}</h2>
    <p class="guide">{{guide}}</p>
    {{#missing}}<p class="missing">{{.}}</p>{{/missing}}
    {{#hasFigures}}<dl class="figures">{{#figures}}<div><dt>{{label}}</dt><dd>{{value}}</dd></div>{{/figures}}</dl>{{/hasFigures}}
    {{#groups}}
    {{#heading}}<h3>{{.}}</h3>{{/heading}}
    <div class="group cols-{{columns}}">
    {{#figures}}
    <figure class="chart">
    <figcaption>{{title}}</figcaption>
    {{{svg}}}
    <details><summary>{{dataTable}}</summary>{{>table}}</details>
    </figure>
    {{/figures}}
    </div>
    {{/groups}}
    {{#tables}}<div class="table"><h3>{{title}}</h3>{{>table}}</div>{{/tables}}
    {{#notes}}<p class="note">{{.}}</p>{{/notes}}
    </section>
    {{/sections}}
    </main>
    </body>
    </html>

    """

  static let css = """
    :root{--ink:#1f2328;--muted:#57606a;--rule:#d0d7de}
    *{box-sizing:border-box}
    body{margin:0 auto;max-width:1200px;padding:24px 32px;color:var(--ink);font:15px/1.55 "Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif}
    h1{font-size:26px;margin:0 0 4px}h2{font-size:21px;margin:0 0 4px;padding-top:8px;border-top:2px solid var(--ink)}h3{font-size:15px;margin:12px 0 4px}
    .meta,.guide,.note{color:var(--muted)}.guide{margin:0 0 12px;font-style:italic}
    nav a{margin-right:12px;color:#0072B2;text-decoration:none;font-size:14px}
    section{margin:28px 0}
    .missing{background:#fff4e5;border-left:4px solid #E69F00;padding:8px 12px}
    .figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px;margin:0 0 12px}
    .figures div{border:1px solid var(--rule);border-radius:6px;padding:8px 12px}
    .figures dt{color:var(--muted);font-size:13px}.figures dd{margin:0;font-size:21px;font-weight:600}
    .group{display:grid;gap:16px;margin:8px 0}.cols-1{grid-template-columns:1fr}.cols-2{grid-template-columns:repeat(2,minmax(0,1fr))}.cols-3{grid-template-columns:repeat(3,minmax(0,1fr))}
    figure{margin:0;break-inside:avoid;page-break-inside:avoid}figcaption{font-weight:600;margin-bottom:4px}
    svg{width:100%;height:auto;display:block}
    details summary{cursor:pointer;color:var(--muted);font-size:13px}
    table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border-bottom:1px solid var(--rule);padding:3px 8px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
    .table{break-inside:avoid}
    @page{size:A4;margin:12mm}
    @media print{body{max-width:none;padding:0;font-size:11pt}nav{display:none}section{break-before:page}section#overview{break-before:auto}.cols-3{grid-template-columns:repeat(2,minmax(0,1fr))}}
    """
}
