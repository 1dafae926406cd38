/// One list per customer, stored flat: customer `c`'s elements are
/// `values[start[c]..<start[c + 1]]`. Two arrays for any number of
/// customers, where `[[Element]]` would allocate (and reference-count) one
/// array per customer.
struct RaggedColumn<Element: Sendable>: Sendable {
  private(set) var start: [Int]
  private(set) var values: [Element]

  /// The number of lists.
  var count: Int { start.count - 1 }

  subscript(c: Int) -> ArraySlice<Element> { values[start[c]..<start[c + 1]] }

  init(_ lists: [[Element]]) {
    start = [0]
    start.reserveCapacity(lists.count + 1)
    values = []
    for list in lists {
      values += list
      start.append(values.count)
    }
  }

  /// Builds the lists of `count` customers in fixed parallel chunks:
  /// `append(c, &values)` appends customer `c`'s elements, and is called
  /// for the customers of a chunk in order. The result does not depend on
  /// the chunking. `rows`, when `append` reads the customers' rows, makes
  /// chunks for them too (`Parallel.chunkCount(customers:rows:)`).
  ///
  /// - Complexity: O(count + elements), plus what `append` costs.
  init(
    count: Int, rows: Int = 0, minimumChunk: Int = 16_384,
    _ append: (_ customer: Int, _ values: inout [Element]) -> Void
  ) {
    self =
      Self.build(count: count, rows: rows, minimumChunk: minimumChunk, state: ()) { c, values, _ in
        append(c, &values)
      }.column
  }

  /// `init(count:rows:minimumChunk:_:)` with a state per chunk (such as a
  /// count), each starting as `state`; the chunks' states come back in
  /// chunk order.
  static func build<State>(
    count: Int, rows: Int = 0, minimumChunk: Int = 16_384, state: State,
    _ append: (_ customer: Int, _ values: inout [Element], _ state: inout State) -> Void
  ) -> (column: RaggedColumn, states: [State]) {
    let chunks = Parallel.chunkCount(customers: count, rows: rows, minimumChunk: minimumChunk)
    var parts = [[Element]](repeating: [], count: chunks)
    var states = [State](repeating: state, count: chunks)
    var start = [Int](repeating: 0, count: count + 1)
    start.withUnsafeMutableBufferPointer { ends in
      parts.withUnsafeMutableBufferPointer { parts in
        states.withUnsafeMutableBufferPointer { states in
          Parallel.forEachChunk(count: count, chunkCount: chunks) { k, range in
            var local: [Element] = []
            for c in range {
              append(c, &local, &states[k])
              ends[c + 1] = local.count  // within the chunk; made global below
            }
            parts[k] = local
          }
        }
      }
    }
    var offset = 0
    for k in 0..<chunks {
      for c in Parallel.chunk(k, of: chunks, count: count) { start[c + 1] += offset }
      offset += parts[k].count
    }
    var values: [Element] = []
    values.reserveCapacity(offset)
    for part in parts { values += part }
    return (RaggedColumn(start: start, values: values), states)
  }

  private init(start: [Int], values: [Element]) {
    self.start = start
    self.values = values
  }
}
