import Foundation
import Koi

// One Lloyd pass of Koi's k-means kernel, for the memory-bandwidth floor in
// benchmarks/bench.py: n points × d features (Float32, feature-major, normal
// random), k fixed random centroids, the kernel `KMeans.selectKernel` picks.
// Prints JSON: seconds per pass (every repetition) for a late pass (labels
// settled, no point moves: most iterations) and a first pass (every point
// assigned and added to the sums).
//
// Usage: LloydPass N D K THREADS [REPETITIONS]
let args = CommandLine.arguments
guard args.count >= 5, let n = Int(args[1]), let d = Int(args[2]), let k = Int(args[3]), let threads = Int(args[4]) else {
  FileHandle.standardError.write("usage: LloydPass N D K THREADS [REPETITIONS]\n".data(using: .utf8)!)
  exit(64)
}
let reps = args.count > 5 ? Int(args[5]) ?? 9 : 9
var g = SeededGenerator(seed: 42)
var values = [Float](repeating: 0, count: n * d)
values.withUnsafeMutableBufferPointer { v in for i in 0..<v.count { v[i] = Float(g.normal()) } }
let matrix = FeatureMatrix(count: n, featureCount: d, featureMajor: values)
let centroids = Matrix(rows: k, columns: d, values: (0..<(k * d)).map { _ in g.normal() })
let kernel = KMeans.selectKernel(k: k, featureCount: d)
let late = KMeans._timeLloydPass(matrix, centroids: centroids, kernel: kernel, repetitions: reps, threads: threads, firstPass: false)
let first = KMeans._timeLloydPass(matrix, centroids: centroids, kernel: kernel, repetitions: reps, threads: threads, firstPass: true)
let out: [String: Any] = [
  "n": n, "d": d, "k": k, "threads": threads, "kernel": kernel.rawValue,
  "matrix_bytes": n * d * 4, "late_seconds": late, "first_seconds": first,
]
let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
