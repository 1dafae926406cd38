import Koi

/// How one input is read: the block size and parallel chunks of each read.
///
/// The reference reads the whole file as one block in one chunk. The others
/// cut it into blocks of a few bytes to a few KiB, parsed in one to four
/// chunks per batch, so record and quote boundaries fall at every kind of
/// place: inside a quoted newline, between CR and LF, inside a UTF-8 or
/// GB18030 character, inside the header.
///
/// The tiny block is 3 to 9 bytes: at least a UTF-8 byte-order mark.
///
/// The smallest blocks are kept for small inputs: a record longer than a
/// batch is parsed again each time a block is added, so the cost of a read
/// grows as (record bytes)² / block size, and a 64 KiB input in 3-byte blocks
/// would spend seconds in work no other size does not already cover.
struct ReadPlan: CustomStringConvertible {
  var blockSize: Int
  var chunksPerBatch: Int
  var description: String { "blockSize \(blockSize), chunksPerBatch \(chunksPerBatch)" }

  func options(strict: Bool) -> IngestOptions {
    var o = IngestOptions()
    o.blockSize = blockSize
    o.chunksPerBatch = chunksPerBatch
    o.strict = strict
    return o
  }

  /// The whole input in one block and one chunk.
  static func oneBlock(size: Int) -> ReadPlan {
    ReadPlan(blockSize: max(1 << 16, size + 1), chunksPerBatch: 1)
  }

  /// The cut-up reads for an input of `size` bytes. `salt` (a byte sum of the
  /// input) picks the tiny block size, so each input is always read the
  /// same way and a crash reproduces from the input alone.
  static func cutUp(size: Int, salt: Int) -> [ReadPlan] {
    var plans: [ReadPlan] = []
    if size <= 2048 { plans.append(ReadPlan(blockSize: 3 + salt % 7, chunksPerBatch: 1 + salt % 3)) }
    if size <= 16384 { plans.append(ReadPlan(blockSize: 61, chunksPerBatch: 2)) }
    plans.append(ReadPlan(blockSize: 509, chunksPerBatch: 4))
    plans.append(ReadPlan(blockSize: 4096, chunksPerBatch: 3))
    // One block, many chunks: the parallel split of a single batch.
    plans.append(ReadPlan(blockSize: oneBlock(size: size).blockSize, chunksPerBatch: 4))
    return plans
  }
}
