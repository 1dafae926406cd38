import RealModule

/// xoshiro256** seeded by SplitMix64: a small, fast, reproducible generator.
/// Every random choice in Koi takes one of these; the seed is an option and is
/// echoed in run.json.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  public init(seed: UInt64) {
    var sm = seed
    func splitMix(_ x: inout UInt64) -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
  }

  /// An independent stream for sub-task `index` (a customer, a restart, a
  /// chunk): deterministic in (seed, index) and unrelated to call order.
  public init(seed: UInt64, stream index: UInt64) {
    self.init(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03) &+ 0x632B_E59B_D9B4_E019)
  }

  @inlinable
  static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func next() -> UInt64 {
    let result = SeededGenerator.rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = SeededGenerator.rotl(s3, 45)
    return result
  }

  /// Uniform on [0, 1) with 53 random bits.
  public mutating func uniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Standard normal by Box–Muller (one value per call; the pair's second half
  /// is discarded to keep the generator stateless apart from its words).
  public mutating func normal() -> Double {
    var u = uniform()
    while u <= 0 { u = uniform() }
    let v = uniform()
    return (-2 * Double.log(u)).squareRoot() * Double.cos(2 * Double.pi * v)
  }

  /// Gamma(shape, scale = 1) by Marsaglia–Tsang (2000); shape < 1 by the
  /// `U^(1/shape)` boost.
  public mutating func gamma(shape: Double) -> Double {
    precondition(shape > 0, "gamma shape must be positive")
    if shape < 1 {
      var u = uniform()
      while u <= 0 { u = uniform() }
      return gamma(shape: shape + 1) * Double.pow(u, 1 / shape)
    }
    let d = shape - 1.0 / 3.0
    let c = 1 / (9 * d).squareRoot()
    while true {
      var x: Double, v: Double
      repeat {
        x = normal()
        v = 1 + c * x
      } while v <= 0
      v = v * v * v
      let u = uniform()
      if u < 1 - 0.0331 * x * x * x * x { return d * v }
      if Double.log(u) < 0.5 * x * x + d * (1 - v + Double.log(v)) { return d * v }
    }
  }

  /// Poisson(mean) by inversion for small means, normal approximation above 500.
  mutating func poisson(mean: Double) -> Int {
    if mean <= 0 { return 0 }
    if mean > 500 { return max(0, Int((mean + mean.squareRoot() * normal()).rounded())) }
    let l = Double.exp(-mean)
    var k = 0
    var p = uniform()
    while p > l { k += 1; p *= uniform() }
    return k
  }
}
