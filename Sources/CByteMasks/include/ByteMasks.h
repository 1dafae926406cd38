#ifndef KOI_BYTE_MASKS_H
#define KOI_BYTE_MASKS_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Bit k of each mask is set when byte k of a 64-byte block is a comma, a
/// line feed or a double quote (`CSVRecord.splitUnquoted`).
typedef struct {
  uint64_t comma;
  uint64_t newline;
  uint64_t quote;
} KoiCSVMasks;

/// The masks of the 64 bytes at `p`. With SSE2 (every x86-64 processor):
/// four 16-byte loads, a compare per byte value and `pmovmskb`, which Swift
/// has no way to spell; elsewhere, one byte at a time.
static inline KoiCSVMasks koi_csv_masks64(const uint8_t *p) {
  KoiCSVMasks m = {0, 0, 0};
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"');
  for (int k = 0; k < 4; k++) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * k));
    m.comma |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) << (16 * k);
    m.newline |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)) << (16 * k);
    m.quote |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) << (16 * k);
  }
#else
  for (int k = 0; k < 64; k++) {
    m.comma |= (uint64_t)(p[k] == ',') << k;
    m.newline |= (uint64_t)(p[k] == '\n') << k;
    m.quote |= (uint64_t)(p[k] == '"') << k;
  }
#endif
  return m;
}

#endif
