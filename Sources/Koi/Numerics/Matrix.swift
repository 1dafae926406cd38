/// A dense row-major matrix of `Double`, the exchange type for the LAPACK and
/// BLAS wrappers in this folder.
///
/// Element `(i, j)` is `values[i * columns + j]`.
public struct Matrix: Sendable, Equatable {
  public let rows: Int
  public let columns: Int
  public var values: [Double]

  public init(rows: Int, columns: Int, values: [Double]) {
    precondition(rows >= 0 && columns >= 0, "matrix shape must be non-negative")
    precondition(values.count == rows * columns, "matrix needs rows × columns values")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  public init(rows: Int, columns: Int, repeating value: Double = 0) {
    self.init(rows: rows, columns: columns, values: Array(repeating: value, count: rows * columns))
  }

  static func identity(_ n: Int) -> Matrix {
    var m = Matrix(rows: n, columns: n)
    for i in 0..<n { m[i, i] = 1 }
    return m
  }

  public subscript(row: Int, column: Int) -> Double {
    get { values[row * columns + column] }
    set { values[row * columns + column] = newValue }
  }

  /// The transpose.
  var transposed: Matrix {
    var t = Matrix(rows: columns, columns: rows)
    for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
    return t
  }
}
