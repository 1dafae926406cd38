import RealModule

// The standard normal distribution's tail, its inverse and its quantile,
// for the log-normal interval family and its scoring.

/// `½ log 2π`: the log of the standard normal density's constant.
private let halfLogTwoPi = 0.5 * Double.log(2 * Double.pi)

/// `log Φ(−z)` for the standard normal, accurate for large positive z.
func logNormalUpperTail(_ z: Double) -> Double {
  if z < 30 {
    return Double.log(0.5 * Double.erfc(z / 2.0.squareRoot()))
  }
  // Asymptotic series of the Mills ratio: Φ(−z) ≈ φ(z)/z · (1 − 1/z² + 3/z⁴).
  let z2 = z * z
  return -0.5 * z2 - Double.log(z) - halfLogTwoPi + Double.log(onePlus: -1 / z2 + 3 / (z2 * z2))
}

/// The inverse Mills ratio `λ(z) = φ(z)/Φ(−z)`.
func millsRatio(_ z: Double) -> Double {
  millsRatio(z, logUpperTail: logNormalUpperTail(z))
}

/// `millsRatio(z)` given `logUpperTail = logNormalUpperTail(z)`, for callers
/// that already have it (the same number, one `erfc` and `log` fewer).
@inline(__always)
func millsRatio(_ z: Double, logUpperTail: Double) -> Double {
  Double.exp(-0.5 * z * z - halfLogTwoPi - logUpperTail)
}

/// w with `log Φ(−w) = target` (target ≤ 0).
func logNormalUpperTailInverse(_ target: Double) -> Double {
  if target > -30 {
    return -standardNormalQuantile(Double.exp(target))
  }
  // Newton on g(w) = log Φ(−w) − target, g'(w) = −λ(w); start from the tail.
  var w = (-2 * target).squareRoot()
  for _ in 0..<50 {
    let tail = logNormalUpperTail(w)
    let step = (tail - target) / millsRatio(w, logUpperTail: tail)
    w += step
    if abs(step) < 1e-12 * max(1, abs(w)) { break }
  }
  return w
}

/// `Φ⁻¹(p)`: Acklam's rational approximation (relative error < 1.2e-9)
/// refined by one Halley step on `erfc`, giving close to full precision.
func standardNormalQuantile(_ p: Double) -> Double {
  if p <= 0 { return -.infinity }
  if p >= 1 { return .infinity }
  let a = [
    -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
    1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00,
  ]
  let b = [
    -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
    6.680131188771972e+01, -1.328068155288572e+01,
  ]
  let c = [
    -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
    -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00,
  ]
  let d = [
    7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
    3.754408661907416e+00,
  ]
  let lo = 0.02425
  var x: Double
  if p < lo {
    let q = (-2 * Double.log(p)).squareRoot()
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
      / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  } else if p <= 1 - lo {
    let q = p - 0.5
    let r = q * q
    x =
      (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
      / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  } else {
    let q = (-2 * Double.log(onePlus: -p)).squareRoot()
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
      / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  let e = 0.5 * Double.erfc(-x / 2.0.squareRoot()) - p
  let u = e * (2 * Double.pi).squareRoot() * Double.exp(x * x / 2)
  x -= u / (1 + x * u / 2)
  return x
}
