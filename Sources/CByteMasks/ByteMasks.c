// The module is its header's inline functions (include/ByteMasks.h); a C
// target needs a source file.
#include "ByteMasks.h"
