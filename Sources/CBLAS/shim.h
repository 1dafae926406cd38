#include <cblas.h>

/* OpenBLAS's own (not in cblas.h): ends its worker threads; exported by
   every OpenBLAS build. Koi calls it once, after setting one thread
   (LinearAlgebra.singleThreaded). */
int blas_thread_shutdown_(void);
