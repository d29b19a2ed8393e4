#include "siamcl/rng.h"

void sc_rng_seed(sc_rng *r, uint64_t seed, uint64_t stream) {
    r->state = 0;
    r->inc = (stream << 1) | 1u;
    sc_rng_u32(r);
    r->state += seed;
    sc_rng_u32(r);
}

uint32_t sc_rng_u32(sc_rng *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint32_t sc_rng_below(sc_rng *r, uint32_t n) {
    uint32_t threshold = -n % n; /* 2^32 mod n: draws below it would bias the result */
    for (;;) {
        uint32_t x = sc_rng_u32(r);
        if (x >= threshold) return x % n;
    }
}

float sc_rng_uniform(sc_rng *r) {
    return (float)(sc_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float sc_rng_range(sc_rng *r, float lo, float hi) {
    return lo + (hi - lo) * sc_rng_uniform(r);
}
