// fma.c measures the float32 FMA peak that CONV.md and CNN.md quote kernels
// against: each thread runs 12 independent chains of AVX-512 (or, with
// -DAVX2, AVX2) fused multiply-adds, so the FMA units, not the latency,
// bound it; at the AVX-512 clock, which on this Xeon is below the one
// clock.c measures with integer multiplies.
//
//   gcc -O2 -mavx512f -mfma -pthread -o /tmp/fma benchmarks/clock/fma.c && /tmp/fma 1 && /tmp/fma 2
//   gcc -O2 -mavx2 -mfma -DAVX2 -pthread -o /tmp/fma2 benchmarks/clock/fma.c && /tmp/fma2 1
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 200000000L

static void *run(void *arg) {
	float *out = arg;
#ifdef AVX2
#define V __m256
#define SET _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define FIRST _mm256_cvtss_f32
#else
#define V __m512
#define SET _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define FIRST _mm512_reduce_add_ps
#endif
	// Twelve named accumulators: registers, not an array the compiler may
	// keep in memory.
	V a = SET(1.0f), b = SET(0.999999f);
	V c0 = SET(0), c1 = SET(1), c2 = SET(2), c3 = SET(3), c4 = SET(4), c5 = SET(5);
	V c6 = SET(6), c7 = SET(7), c8 = SET(8), c9 = SET(9), c10 = SET(10), c11 = SET(11);
	for (long n = 0; n < N; n++) {
		c0 = FMA(c0, b, a), c1 = FMA(c1, b, a), c2 = FMA(c2, b, a), c3 = FMA(c3, b, a);
		c4 = FMA(c4, b, a), c5 = FMA(c5, b, a), c6 = FMA(c6, b, a), c7 = FMA(c7, b, a);
		c8 = FMA(c8, b, a), c9 = FMA(c9, b, a), c10 = FMA(c10, b, a), c11 = FMA(c11, b, a);
	}
	float s = FIRST(c0) + FIRST(c1) + FIRST(c2) + FIRST(c3) + FIRST(c4) + FIRST(c5) + FIRST(c6) + FIRST(c7) +
		  FIRST(c8) + FIRST(c9) + FIRST(c10) + FIRST(c11);
	*out = s;
	return NULL;
}

int main(int argc, char **argv) {
	int t = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t th[64];
	float out[64];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < t; i++) pthread_create(&th[i], NULL, run, &out[i]);
	for (int i = 0; i < t; i++) pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double sec = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
#ifdef AVX2
	int lanes = 8;
#else
	int lanes = 16;
#endif
	printf("%d thread(s): %.1f GFLOP/s float32 (%.1f per thread; %s FMA, 12 chains; check %g)\n", t,
	       2.0 * lanes * 12 * N * t / sec / 1e9, 2.0 * lanes * 12 * N / sec / 1e9, lanes == 16 ? "AVX-512" : "AVX2", out[0]);
	return 0;
}
