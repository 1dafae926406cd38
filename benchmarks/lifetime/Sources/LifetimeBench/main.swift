import Foundation
import Koi

// Koi's side of benchmarks/lifetime/compare.py.
//
//   LifetimeBench simulate N OUT.csv [regular]
//       writes a simulated N-customer summary (customer_id, frequency,
//       recency, T, monetary_value, log_interval_sum; days, whole days)
//   LifetimeBench run SUMMARY.csv [--horizon-days D] [--discount-rate R]
//       [--margin M] [--max-erlang-k K]
//       fits and scores the summary; prints one JSON object with parameters,
//       sums of the scores and wall/CPU seconds of fit and score.
//
// Simulation: BG/NBD r=0.8, α=30, a=0.9, b=4 (or, with `regular`,
// MBG/CNBD-3 r=2, α=60, a=0.7, b=5); Gamma-Gamma p=6, q=4, γ=60; ages uniform
// on 30–730 days; recency and age rounded up to whole days; seed 42.

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("LifetimeBench: \(message)\n".utf8))
  exit(64)
}

func cpuSeconds() -> Double {
  var u = rusage()
  getrusage(RUSAGE_SELF.rawValue, &u)
  return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6
    + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
}

func simulate(count n: Int, path: String, regular: Bool) throws {
  let process: LifetimeSimulator.Process = regular
    ? .regularTiming(RegularTimingParameters(k: 3, r: 2, alpha: 60, a: 0.7, b: 5))
    : .bgnbd(BGNBDParameters(r: 0.8, alpha: 30, a: 0.9, b: 4))
  let s = LifetimeSimulator.simulate(process, spend: GammaGammaParameters(p: 6, q: 4, gamma: 60),
                                     count: n, ageRange: 30...730, seed: 42)
  var out = "customer_id,frequency,recency,T,monetary_value,log_interval_sum\n"
  out.reserveCapacity(n * 48)
  for i in 0..<n {
    let money = (s.monetaryValue[i] * 100).rounded() / 100
    let logGaps = s.logIntervalSum.map { ($0[i] * 1e6).rounded() / 1e6 } ?? 0
    out += "c\(i),\(s.frequency[i]),\(Int(s.recency[i].rounded(.up))),\(Int(s.age[i].rounded(.up))),\(money),\(logGaps)\n"
  }
  try out.write(toFile: path, atomically: true, encoding: .utf8)
}

func readSummary(_ path: String) throws -> LifetimeSummary {
  let text = try String(contentsOfFile: path, encoding: .utf8)
  var x = [Int32](), tx = [Double](), t = [Double](), m = [Double](), li = [Double]()
  var lines = text.split(separator: "\n").makeIterator()
  guard let header = lines.next() else { fail("\(path) is empty") }
  let names = header.split(separator: ",").map(String.init)
  guard let ix = names.firstIndex(of: "frequency"), let ir = names.firstIndex(of: "recency"),
        let it = names.firstIndex(of: "T"), let im = names.firstIndex(of: "monetary_value")
  else { fail("\(path) needs columns frequency, recency, T, monetary_value") }
  let il = names.firstIndex(of: "log_interval_sum")
  var line = 1
  while let l = lines.next() {
    line += 1
    let f = l.split(separator: ",", omittingEmptySubsequences: false)
    guard f.count == names.count, let xi = Int32(f[ix]), let ri = Double(f[ir]), let ti = Double(f[it]),
          let mi = Double(f[im])
    else { fail("\(path) line \(line): expected \(names.count) numeric fields") }
    x.append(xi); tx.append(ri); t.append(ti); m.append(mi)
    if let il { li.append(Double(f[il]) ?? 0) }
  }
  return LifetimeSummary(frequency: x, recency: tx, age: t, monetaryValue: m, logIntervalSum: il == nil ? nil : li)
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "simulate":
  guard args.count >= 3, let n = Int(args[1]), n > 0 else { fail("usage: LifetimeBench simulate N OUT.csv [regular]") }
  try simulate(count: n, path: args[2], regular: args.count > 3 && args[3] == "regular")
case "run":
  guard args.count >= 2 else { fail("usage: LifetimeBench run SUMMARY.csv [--horizon-days D] [--discount-rate R] [--margin M] [--max-erlang-k K]") }
  var options = LifetimeOptions(horizonDays: 360, annualDiscountRate: 0.10, margin: 1, maximumErlangK: 0)
  var i = 2
  while i + 1 < args.count {
    guard let v = Double(args[i + 1]) else { fail("\(args[i]) needs a number") }
    switch args[i] {
    case "--horizon-days": options.horizonDays = v
    case "--discount-rate": options.annualDiscountRate = v
    case "--margin": options.margin = v
    case "--max-erlang-k": options.maximumErlangK = Int(v)
    default: fail("unknown option \(args[i])")
    }
    i += 2
  }
  guard options.problems.isEmpty else { fail(options.problems.joined(separator: "; ")) }
  let summary = try readSummary(args[1])
  let clock = ContinuousClock()
  // The stage as Koi runs it (fit, then score, sharing the compressed
  // summary), then fit alone for the split.
  let (t0, c0) = (clock.now, cpuSeconds())
  let (model, columns) = LifetimeStage.run(summary, options: options)
  let (t1, c1) = (clock.now, cpuSeconds())
  _ = LifetimeStage.fit(summary, options: options)
  let (t2, c2) = (clock.now, cpuSeconds())
  func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
  func total(_ v: [Double?]) -> Double { v.reduce(0) { $0 + ($1 ?? 0) } }
  let bg = model.bgnbd?.parameters, gg = model.gammaGamma?.parameters, reg = model.regularTiming?.parameters
  let report: [String: Any] = [
    "tool": "koi",
    "customers": summary.count,
    "unique_rows": model.uniqueRecencyRows,
    "chosen": model.chosen.rawValue,
    "bg_nbd": ["r": bg?.r ?? .nan, "alpha": bg?.alpha ?? .nan, "a": bg?.a ?? .nan, "b": bg?.b ?? .nan],
    "mbg_cnbd_k": reg.map { ["k": Double($0.k), "r": $0.r, "alpha": $0.alpha, "a": $0.a, "b": $0.b] } ?? [:],
    "gamma_gamma": ["p": gg?.p ?? .nan, "q": gg?.q ?? .nan, "v": gg?.gamma ?? .nan],
    "iterations": ["bg_nbd": model.bgnbd?.diagnostics.iterations ?? 0, "gamma_gamma": model.gammaGamma?.diagnostics.iterations ?? 0],
    "sums": ["p_alive": total(columns.probabilityAlive), "expected_purchases": total(columns.expectedPurchases),
             "expected_spend": total(columns.expectedSpend), "clv": total(columns.clv)],
    "seconds": ["fit_and_score": seconds(t1 - t0), "fit": seconds(t2 - t1)],
    "cpu_seconds": ["fit_and_score": c1 - c0, "fit": c2 - c1],
  ]
  let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
  print(String(decoding: json, as: UTF8.self))
default:
  fail("usage: LifetimeBench simulate N OUT.csv [regular] | run SUMMARY.csv [options]")
}
