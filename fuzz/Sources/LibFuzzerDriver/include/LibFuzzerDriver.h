// libFuzzer's driver, as compiler-rt declares it (FuzzerInterface.h). The
// library is linked by `-sanitize=fuzzer`; this header only lets Swift call
// it with the C calling convention.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*UserCb)(const uint8_t *Data, size_t Size));
