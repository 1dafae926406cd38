import Crypto
import Foundation
import Testing

@testable import Koi

#if canImport(Glibc)
  import Glibc
#endif

/// The input's SHA-256 computed on a low-priority thread right behind the
/// reader (`BackgroundDigest`, issue 18): the same digest as hashing while
/// reading, never of bytes the reader has not read, and an error when the
/// file shrank in between.
@Suite struct BackgroundDigestTests {
  let dir = TemporaryDirectory()

  /// Bytes of several read blocks, not a multiple of the digest's buffer.
  func bytes(_ count: Int) -> [UInt8] {
    var g = SeededGenerator(seed: 7)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
  }

  func open(_ path: String) -> Int32 { Glibc.open(path, O_RDONLY) }

  @Test func digestIsOfTheBytesTheReaderRead() throws {
    let data = bytes(700_001)
    let path = try dir.write("data.bin", bytes: data)
    let fd = open(path)
    defer { close(fd) }
    let digest = try #require(BackgroundDigest(fd: fd, path: path))
    // The reader reads in steps; the file is longer than what it read.
    for end in [0, 1, 65_536, 300_000, 600_000] { digest.advance(to: Int64(end)) }
    digest.finish()
    #expect(try digest.value() == SHA256Hex.of(Array(data[..<600_000])))
  }

  /// The hash keeps up with the reader: what was read is hashed before the
  /// reader finishes, and nothing beyond it.
  @Test func hashesWhatWasReadBeforeTheReaderFinishes() throws {
    let data = bytes(900_000)
    let path = try dir.write("data.bin", bytes: data)
    let fd = open(path)
    defer { close(fd) }
    let digest = try #require(BackgroundDigest(fd: fd, path: path))
    digest.advance(to: 600_000)
    // At nice 19 on a busy machine it may take a while: up to 30 s.
    let deadline = Date().addingTimeInterval(30)
    while digest.hashedBytes < 600_000 && Date() < deadline { usleep(1_000) }
    #expect(digest.hashedBytes == 600_000)
    digest.advance(to: 800_000)
    digest.finish()
    #expect(try digest.value() == SHA256Hex.of(Array(data[..<800_000])))
  }

  @Test func aFileThatBecameShorterIsAnError() throws {
    let path = try dir.write("data.bin", bytes: bytes(500_000))
    let fd = open(path)
    defer { close(fd) }
    let digest = try #require(BackgroundDigest(fd: fd, path: path))
    // Nothing is hashed before the reader says how far it read.
    #expect(truncate(path, 100_000) == 0)
    digest.advance(to: 500_000)
    digest.finish()
    #expect {
      try digest.value()
    } throws: { e in
      (e as? IngestError)?.message.contains("became shorter while Koi read it (500000 bytes read, 100000 there now)")
        == true
    }
  }

  @Test func cancelledDigestStopsAndSaysSo() throws {
    let path = try dir.write("data.bin", bytes: bytes(10_000))
    let fd = open(path)
    defer { close(fd) }
    let digest = try #require(BackgroundDigest(fd: fd, path: path))
    digest.advance(to: 5_000)
    digest.cancel()
    #expect(throws: IngestError.self) { try digest.value() }
  }

  /// The reader in background mode: the same checksums as hashing while
  /// reading, for one file, several files (one named twice) and both
  /// sheets of a workbook.
  @Test func readerLeavesChecksumsToTheBackgroundAndAwaitsTheSame() throws {
    let a = try dir.write("a.csv", "customer_id,date,item,amount\na,2025-01-01,x,1\nb,2025-01-02,y,2\n")
    let b = try dir.write("b.csv", "customer_id,date,item,amount\nc,2025-01-03,x,3\n")
    let workbook = repositoryRoot.appendingPathComponent("Tests/KoiTests/Fixtures/xlsx/two-sheets.xlsx").path
    for (names, sheet) in [([a], nil), ([a, b], nil), ([workbook], "all")] {
      let inputs = try InputList.expand(names)
      var options = IngestOptions()
      options.sheet = sheet
      let reference = try TransactionReader.read(inputs: inputs, options: options)
      options.checksumsInBackground = true
      var r = try TransactionReader.read(inputs: inputs, options: options)
      #expect(r.sha256.isEmpty && r.files.allSatisfy { $0.sha256.isEmpty })
      try r.awaitChecksums()
      #expect(r.sha256 == reference.sha256 && r.sha256.count == 64)
      #expect(r.files == reference.files)
    }
    // The one-file digest is the file's (`sha256sum a.csv`).
    let file = try TransactionReader.read(path: a)
    #expect(file.sha256 == SHA256Hex.of(Array(try Data(contentsOf: URL(fileURLWithPath: a)))))
  }
}
