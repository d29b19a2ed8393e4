#include "siamcl/pairs.h"
#include "siamcl/error.h"
#include "siamcl/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sc_split_holdout(size_t n, double fraction, uint64_t seed, uint32_t **kept, size_t *nkept,
                     uint32_t **held, size_t *nheld) {
    size_t h = (size_t)llround(fraction * (double)n);
    uint32_t *perm = malloc(n * sizeof *perm);
    uint8_t *is_held = calloc(n ? n : 1, 1);
    *kept = malloc((n - h ? n - h : 1) * sizeof **kept);
    *held = malloc((h ? h : 1) * sizeof **held);
    if (!perm || !is_held || !*kept || !*held) {
        free(perm), free(is_held), free(*kept), free(*held);
        *kept = *held = NULL;
        return sc_error(SC_ERR, "out of memory");
    }
    sc_rng r;
    sc_rng_seed(&r, seed, 0x5917);
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = 0; i < h; i++) { /* a partial Fisher-Yates: the first h are the held-out */
        size_t j = i + sc_rng_below(&r, (uint32_t)(n - i));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        is_held[perm[i]] = 1;
    }
    *nkept = *nheld = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_held[i])
            (*held)[(*nheld)++] = (uint32_t)i;
        else
            (*kept)[(*nkept)++] = (uint32_t)i;
    }
    free(perm);
    free(is_held);
    return SC_OK;
}

/* Members of each class among the pool, as pool positions grouped by label. */
typedef struct classes {
    size_t start[257]; /* class c occupies members[start[c] .. start[c + 1]) */
    uint32_t *members;
} classes;

static int group(const uint8_t *labels, const uint32_t *pool, size_t n, classes *c) {
    size_t fill[256] = {0};
    memset(c->start, 0, sizeof c->start);
    c->members = malloc((n ? n : 1) * sizeof *c->members);
    if (!c->members) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < n; i++) c->start[labels[pool[i]] + 1]++;
    for (int k = 0; k < 256; k++) c->start[k + 1] += c->start[k];
    for (size_t i = 0; i < n; i++) {
        int k = labels[pool[i]];
        c->members[c->start[k] + fill[k]++] = pool[i];
    }
    return SC_OK;
}

int sc_pairs_alloc(sc_pairs *p, size_t n) {
    p->n = n;
    p->features = NULL;
    p->nfeatures = 0;
    p->left = malloc((n ? n : 1) * sizeof *p->left);
    p->right = malloc((n ? n : 1) * sizeof *p->right);
    p->target = malloc((n ? n : 1) * sizeof *p->target);
    if (p->left && p->right && p->target) return SC_OK;
    sc_pairs_free(p);
    return sc_error(SC_ERR, "out of memory");
}

int sc_pairs_alloc_features(sc_pairs *p, int nfeatures) {
    size_t n = p->n * (size_t)nfeatures;
    free(p->features);
    p->nfeatures = nfeatures;
    p->features = malloc((n ? n : 1) * sizeof(float));
    return p->features ? SC_OK : sc_error(SC_ERR, "out of memory");
}

/* Pair i's features into pair j's place (j <= i, or distinct rows of two sets). */
static void copy_features(const sc_pairs *from, size_t i, sc_pairs *to, size_t j) {
    size_t F = (size_t)from->nfeatures;
    memcpy(to->features + j * F, from->features + i * F, F * sizeof(float));
}

int sc_pairs_draw(const uint8_t *labels, const uint32_t *pool, size_t npool, uint64_t seed,
                  uint64_t stream, sc_pairs *out) {
    classes c;
    memset(out, 0, sizeof *out);
    SC_TRY(group(labels, pool, npool, &c));
    int nclasses = 0;
    for (int k = 0; k < 256; k++) nclasses += c.start[k + 1] > c.start[k];
    if (nclasses < 2) {
        free(c.members);
        return sc_error(SC_EINPUT, "pairs need at least two classes; the data holds %d", nclasses);
    }
    int rc = sc_pairs_alloc(out, 2 * npool);
    sc_rng r;
    sc_rng_seed(&r, seed, stream);
    for (size_t i = 0; i < npool && rc == SC_OK; i++) {
        uint32_t a = pool[i];
        int k = labels[a];
        size_t first = c.start[k], size = c.start[k + 1] - first;
        uint32_t pos = a;
        /* another member of the class; the anchor itself only when it is alone there */
        while (size > 1 && pos == a) pos = c.members[first + sc_rng_below(&r, (uint32_t)size)];
        /* a uniform pick among the other classes' members: rejection draws over the pool */
        uint32_t neg;
        do neg = pool[sc_rng_below(&r, (uint32_t)npool)];
        while (labels[neg] == k);
        out->left[2 * i] = out->left[2 * i + 1] = (int32_t)a;
        out->right[2 * i] = (int32_t)pos;
        out->right[2 * i + 1] = (int32_t)neg;
        out->target[2 * i] = 1.0f;
        out->target[2 * i + 1] = 0.0f;
    }
    free(c.members);
    return rc;
}

int sc_pairs_select(const sc_pairs *all, const uint8_t *which, uint8_t keep, sc_pairs *out) {
    size_t n = 0, k = 0;
    for (size_t i = 0; i < all->n; i++) n += which[i] == keep;
    SC_TRY(sc_pairs_alloc(out, n));
    if (all->nfeatures) SC_TRY(sc_pairs_alloc_features(out, all->nfeatures));
    for (size_t i = 0; i < all->n; i++) {
        if (which[i] != keep) continue;
        if (all->nfeatures) copy_features(all, i, out, k);
        out->left[k] = all->left[i];
        out->right[k] = all->right[i];
        out->target[k++] = all->target[i];
    }
    return SC_OK;
}

/* Swaps pair i's and pair j's features. */
static void swap_features(sc_pairs *p, size_t i, size_t j) {
    for (int f = 0; f < p->nfeatures; f++) {
        float *a = p->features + i * (size_t)p->nfeatures + f,
              *b = p->features + j * (size_t)p->nfeatures + f, t = *a;
        *a = *b;
        *b = t;
    }
}

void sc_pairs_shuffle(sc_pairs *p, uint64_t seed, uint64_t stream) {
    sc_rng r;
    sc_rng_seed(&r, seed, stream);
    for (size_t i = p->n; i > 1; i--) {
        size_t j = sc_rng_below(&r, (uint32_t)i);
        swap_features(p, i - 1, j);
        int32_t l = p->left[i - 1], rt = p->right[i - 1];
        float t = p->target[i - 1];
        p->left[i - 1] = p->left[j], p->right[i - 1] = p->right[j], p->target[i - 1] = p->target[j];
        p->left[j] = l, p->right[j] = rt, p->target[j] = t;
    }
}

void sc_pairs_free(sc_pairs *p) {
    free(p->left);
    free(p->right);
    free(p->target);
    free(p->features);
    memset(p, 0, sizeof *p);
}

void sc_pairs_share(size_t n, int part, int parts, size_t *first, size_t *count) {
    size_t base = n / (size_t)parts, extra = n % (size_t)parts, r = (size_t)part;
    *count = base + (r < extra);
    *first = r * base + (r < extra ? r : extra);
}
