/// Rounds to `places` decimals for reports, so that a share prints as 0.3,
/// not 0.30000000000000004.
@inlinable
public func rounded(_ x: Double, _ places: Int) -> Double {
  guard x.isFinite else { return x }
  var p = 1.0
  for _ in 0..<places { p *= 10 }
  return (x * p).rounded(.toNearestOrAwayFromZero) / p
}
