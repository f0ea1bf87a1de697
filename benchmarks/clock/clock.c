// clock.c estimates the core clock for TRAINING.md's peak GFLOP/s: a chain
// of dependent 64-bit multiplies, 3 cycles each on Intel cores since Sandy
// Bridge (a chain of adds does not work: recent cores execute dependent
// immediate adds faster than one per cycle).
//
//   gcc -O1 -o /tmp/clock benchmarks/clock/clock.c && /tmp/clock
#include <stdio.h>
#include <time.h>
int main(){struct timespec a,b;long n=1000000000L;long x=3;clock_gettime(CLOCK_MONOTONIC,&a);
__asm__ volatile("1: imul %0, %0\n imul %0, %0\n imul %0, %0\n imul %0, %0\n sub $4, %1\n jnz 1b" : "+r"(x), "+r"(n));
clock_gettime(CLOCK_MONOTONIC,&b);double s=(b.tv_sec-a.tv_sec)+(b.tv_nsec-a.tv_nsec)/1e9;printf("%.2f GHz (dependent 64-bit imul, 3 cycles each)\n", 3e9/s/1e9);return 0;}
