import Foundation
import Testing

@testable import Koi

/// `AtomicFile`: readers see the previous file or the complete new one, and
/// failures keep the messages users see.
@Suite struct AtomicFileTests {
  let dir = TemporaryDirectory()

  func contents(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

  /// Hidden (temporary) entries left in the directory.
  func leftovers() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(".") }
  }

  /// Small writes (buffered), a block of 3 MiB (written straight through)
  /// and a text, in order; the file appears only on commit.
  @Test(arguments: [false, true])
  func writesEveryByteInOrderAndAppearsOnCommit(streamed: Bool) throws {
    let path = dir.path("out.bin")
    let large = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let f = try AtomicFile(path: path, streamed: streamed)
    try f.write([1, 2, 3])
    try f.write(large)
    try f.write("end\n")
    #expect(!FileManager.default.fileExists(atPath: path))
    try f.commit()
    #expect(try contents(path) == [1, 2, 3] + large + Array("end\n".utf8))
    #expect(try leftovers().isEmpty)
  }

  /// A streamed file of many blocks that each end inside a page, each
  /// write followed by the advice on the whole pages before it, and small
  /// writes buffered between them: every byte arrives, in order.
  @Test func aStreamedFileKeepsEveryByteAcrossItsAdvice() throws {
    let path = dir.path("streamed.bin")
    let block = (1 << 20) + 4_093
    let count = 9
    let f = try AtomicFile(path: path, streamed: true)
    let pattern = (0..<block).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    var expected: [UInt8] = []
    for b in 0..<count {
      var bytes = pattern
      bytes[b] = ~bytes[b]
      try f.write(bytes)
      try f.write([UInt8(b)])  // buffered between the large blocks
      expected += bytes + [UInt8(b)]
    }
    try f.commit()
    #expect(try contents(path) == expected)
  }

  /// A file dropped before `commit()` leaves the previous file as it was and
  /// no temporary file.
  @Test func anUncommittedFileKeepsThePreviousOne() throws {
    let path = try dir.write("out.json", "previous\n")
    do {
      let f = try AtomicFile(path: path)
      try f.write("new, never committed\n")
    }
    #expect(try contents(path) == Array("previous\n".utf8))
    #expect(try leftovers().isEmpty)
  }

  @Test func aMissingDirectorySaysWhatTheSystemSaid() throws {
    let path = dir.path("missing/out.json")
    let error = #expect(throws: OutputError.self) { _ = try AtomicFile(path: path) }
    #expect(error?.path == path)
    #expect(error?.message == "cannot create (No such file or directory); check that the output directory is writable")
  }

  /// A budget for one output file fails only that file's writes.
  @Test func aFaultForOneFileLeavesTheOthersWritable() throws {
    let budgeted = dir.path("a.json"), other = dir.path("b.json")
    WriteFaults.shared.failWrites(under: dir.url.path, after: 4, writing: "a.json")
    defer { WriteFaults.shared.removeFault(under: dir.url.path) }
    try AtomicFile.write(Array("0123456789".utf8), to: other)
    #expect(try String(contentsOfFile: other, encoding: .utf8) == "0123456789")
    let error = #expect(throws: OutputError.self) { try AtomicFile.write(Array("0123456789".utf8), to: budgeted) }
    #expect(error?.path == budgeted)
    #expect(!FileManager.default.fileExists(atPath: budgeted))
  }

  /// With a budget of N bytes, exactly N bytes reach the temporary file
  /// (part of a 2 MiB block), then the write fails as on a full disk and the
  /// previous file stays.
  @Test func aFullDiskWritesTheBudgetThenFails() throws {
    let path = try dir.write("out.bin", "previous\n")
    let budget = 1_500_000
    WriteFaults.shared.failWrites(under: dir.url.path, after: budget)
    defer { WriteFaults.shared.removeFault(under: dir.url.path) }
    do {
      let f = try AtomicFile(path: path)
      let error = #expect(throws: OutputError.self) { try f.write([UInt8](repeating: 7, count: 2 << 20)) }
      #expect(error?.path == path)
      #expect(error?.message == "write failed (No space left on device)")
      let temporary = try leftovers()
      try #require(temporary.count == 1)
      let size = try FileManager.default.attributesOfItem(atPath: dir.path(temporary[0]))[.size] as? Int
      #expect(size == budget)
    }
    #expect(try contents(path) == Array("previous\n".utf8))
    #expect(try leftovers().isEmpty)
  }
}
