#include "siamcl/model.h"

#include <string.h>

const char *const sc_head_names[] = {"cosine", "euclidean", "mlp", NULL};
const char *const sc_output_names[] = {"raw", "range", NULL};

void sc_model_describe(const sc_model_config *mc, const sc_loss_config *loss, char *out,
                       size_t size) {
    size_t n = (size_t)snprintf(out, size, "%d", mc->input);
    for (int l = 0; l < mc->nlayers && n < size; l++)
        n += (size_t)snprintf(out + n, size - n, "-%d", mc->layers[l]);
    if (n < size)
        snprintf(out + n, size - n, " %s tower%s, %s head, %s output, %s loss",
                 sc_act_names[mc->activation], mc->normalize ? " (normalized)" : "",
                 sc_head_names[mc->head], sc_output_names[mc->output], sc_loss_names[loss->kind]);
}
