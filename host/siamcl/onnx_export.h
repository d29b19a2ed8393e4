/* A trained model as an ONNX graph (opset 17), written with protobuf-c from the ONNX schema
 * that Debian's libonnx-dev installs.
 *
 * The tower: dense models take "rows" (N x input floats); text models take the hashed features
 * of N texts as "ids" (int64, every text's feature indices one after another), "weights"
 * (float, their values) and "offsets" (int64, N: where each text's ids begin), as
 * torch.nn.EmbeddingBag takes them. The output "embeddings" (N x E) is L2-normalized when the
 * model normalizes. With pairs, the whole scorer: each input twice, prefixed "left_" and
 * "right_" (and "pair_features", N x F, for a head that reads them), the head and the range
 * map; the output "scores" (N), as `siamcl score` gives them.
 *
 * The model's metadata holds the config ("siamcl.config": its [features] section says how to
 * hash a text) and what the inputs are ("siamcl.inputs"). */
#ifndef SIAMCL_ONNX_EXPORT_H
#define SIAMCL_ONNX_EXPORT_H

#include "siamcl/config.h"
#include "siamcl/model.h"

/* Writes m (with its config, for the metadata) to path, the tower or with pairs the scorer;
 * SC_EINPUT when this siamcl was built without ONNX support. The file is written whole or not at
 * all. */
int sc_onnx_export(sc_model *m, const sc_config *cfg, int pairs, const char *path);

#endif
