#include "siamcl/csr.h"

#include <stdlib.h>
#include <string.h>

void sc_csr_free(sc_csr *m) {
    free(m->offsets);
    free(m->indices);
    free(m->values);
    memset(m, 0, sizeof *m);
}
