// Memory-bandwidth probe for the physical floors in benchmarks/bench.py.
//
// Reads a buffer of MiB mebibytes (default 1024, far beyond the caches) as
// 32-bit floats, summing them, with 1 and with 2 threads (each thread a
// contiguous half), best of REPS passes after one warm-up pass; also times
// memcpy of half the buffer into the other half (read + write bytes).
// Prints JSON: GB/s (1e9 bytes) per case.
//
// Build: cc -O2 -pthread -o bandwidth bandwidth.c    Run: ./bandwidth [MiB] [REPS]
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static float *buf;
static size_t count;

struct job { size_t lo, hi; double sum; };

static void *reader(void *arg) {
  struct job *j = arg;
  // Eight independent accumulators so the loop is load-bound, not add-bound.
  float s[8] = {0};
  size_t i = j->lo;
  for (; i + 8 <= j->hi; i += 8)
    for (int l = 0; l < 8; l++) s[l] += buf[i + l];
  for (; i < j->hi; i++) s[0] += buf[i];
  double t = 0;
  for (int l = 0; l < 8; l++) t += s[l];
  j->sum = t;
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double read_pass(int threads) {
  pthread_t tid[64];
  struct job jobs[64];
  double t0 = now();
  for (int t = 0; t < threads; t++) {
    jobs[t].lo = count * t / threads;
    jobs[t].hi = count * (t + 1) / threads;
    pthread_create(&tid[t], NULL, reader, &jobs[t]);
  }
  double sum = 0;
  for (int t = 0; t < threads; t++) { pthread_join(tid[t], NULL); sum += jobs[t].sum; }
  double dt = now() - t0;
  if (sum == 12345.678) puts("");  // keep the sum alive
  return dt;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  size_t bytes = mib << 20;
  count = bytes / sizeof(float);
  buf = malloc(bytes);
  if (!buf) { fprintf(stderr, "bandwidth: cannot allocate %zu MiB\n", mib); return 1; }
  for (size_t i = 0; i < count; i++) buf[i] = (float)(i & 1023);
  printf("{\"bytes\": %zu", bytes);
  for (int threads = 1; threads <= 2; threads++) {
    double best = 1e30;
    read_pass(threads);
    for (int r = 0; r < reps; r++) { double t = read_pass(threads); if (t < best) best = t; }
    printf(", \"read_%dt_gbps\": %.3f", threads, bytes / best / 1e9);
  }
  double best = 1e30;
  memcpy(buf, buf + count / 2, bytes / 2);
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    memcpy(buf, buf + count / 2, bytes / 2);
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf(", \"memcpy_gbps\": %.3f}\n", bytes / best / 1e9);  // half read + half written
  free(buf);
  return 0;
}
