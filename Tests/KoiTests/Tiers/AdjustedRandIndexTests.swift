import Testing

@testable import Koi

@Suite struct AdjustedRandIndexTests {
  @Test func identicalPartitionsUpToRenamingScoreOne() {
    #expect(adjustedRandIndex([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9] as [Int]) == 1)
  }

  @Test func handComputedValue() {
    // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]. Contingency: (0,0)=2 (0,1)=1 (1,1)=1 (1,2)=2.
    // index = 1+0+0+1 = 2; ΣC(a_i) = 3+3 = 6; ΣC(b_j) = 1+1+1 = 3; C(6) = 15.
    // expected = 6·3/15 = 1.2; maximum = 4.5; ARI = 0.8/3.3 = 0.242424…
    let v = adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2] as [Int32])
    #expect(abs(v - 0.8 / 3.3) < 1e-12)
  }

  @Test func worseThanChanceIsNegative() {
    // a = [0,0,1,1], b = [0,1,0,1]: index 0; ΣC(a)=2, ΣC(b)=2, C(4)=6;
    // expected = 4/6; maximum = 2; ARI = −(2/3)/(4/3) = −0.5.
    #expect(abs(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1] as [Int]) + 0.5) < 1e-12)
  }

  @Test func degenerateCasesScoreOne() {
    #expect(adjustedRandIndex([1, 1, 1], [0, 0, 0] as [Int]) == 1)
    #expect(adjustedRandIndex([0, 1, 2], [2, 0, 1] as [Int]) == 1)
    #expect(adjustedRandIndex([Int](), []) == 1)
  }
}
