/* The project's PRNG (PCG32): the same seed gives the same numbers on every machine. */
#ifndef SIAMCL_RNG_H
#define SIAMCL_RNG_H

#include <stdint.h>

typedef struct sc_rng {
    uint64_t state, inc;
} sc_rng;

void sc_rng_seed(sc_rng *r, uint64_t seed, uint64_t stream);
uint32_t sc_rng_u32(sc_rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint32_t sc_rng_below(sc_rng *r, uint32_t n);
/* Uniform in [0, 1) with 24 random bits. */
float sc_rng_uniform(sc_rng *r);
/* Uniform in [lo, hi). */
float sc_rng_range(sc_rng *r, float lo, float hi);

#endif
