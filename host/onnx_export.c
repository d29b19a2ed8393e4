#include "siamcl/onnx_export.h"
#include "atomic_file.h"
#include "siamcl/error.h"

#ifdef SC_HAVE_ONNX

#include "onnx.pb-c.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define OPSET     17
#define MAX_ITEMS 512 /* nodes, initializers, allocations: a tower and head need a few dozen */

/* The graph under construction. Every allocation is kept in `owned` and freed together; the
 * parameters' bytes are the caller's (params) until the model is written. */
typedef struct graph {
    Onnx__NodeProto *node[MAX_ITEMS];
    Onnx__TensorProto *init[MAX_ITEMS];
    Onnx__ValueInfoProto *input[16], *output[4];
    size_t nnode, ninit, ninput, noutput;
    void *owned[8 * MAX_ITEMS];
    size_t nowned;
    int names, failed;
} graph;

static void *own(graph *g, void *p) {
    if (!p || g->nowned == sizeof g->owned / sizeof g->owned[0]) {
        free(p);
        g->failed = 1;
        return NULL;
    }
    return g->owned[g->nowned++] = p;
}

static void *fresh(graph *g, size_t bytes) {
    return own(g, calloc(1, bytes ? bytes : 1));
}

static char *text(graph *g, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = fresh(g, strlen(buf) + 1);
    return s ? strcpy(s, buf) : (char *)"";
}

/* An initializer of dims (n of them) holding bytes of elem_type. */
static const char *tensor(graph *g, int32_t elem, const int64_t *dims, size_t n, const void *data,
                          size_t bytes, int copy) {
    Onnx__TensorProto *t = fresh(g, sizeof *t);
    int64_t *d = fresh(g, n * sizeof *d);
    void *raw = copy ? fresh(g, bytes) : (void *)data;
    if (!t || !d || !raw || g->ninit == MAX_ITEMS) return g->failed = 1, "";
    onnx__tensor_proto__init(t);
    if (n) memcpy(d, dims, n * sizeof *d); /* a scalar has no dims (NULL) */
    if (copy) memcpy(raw, data, bytes);
    t->n_dims = n;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = elem;
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = raw;
    t->name = text(g, "c%d", g->names++);
    g->init[g->ninit++] = t;
    return t->name;
}

/* floats of dims; the caller's x itself (copy 0: a parameter, one initializer however many
 * nodes read it, as the two towers of a scorer share theirs) or a copy. */
static const char *floats(graph *g, const float *x, const int64_t *dims, size_t n, int copy) {
    size_t count = 1;
    for (size_t i = 0; i < n; i++) count *= (size_t)dims[i];
    for (size_t i = 0; !copy && i < g->ninit; i++)
        if (g->init[i]->raw_data.data == (const uint8_t *)x &&
            g->init[i]->raw_data.len == count * sizeof *x)
            return g->init[i]->name;
    return tensor(g, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, n, x, count * sizeof *x, copy);
}

static const char *scalar(graph *g, float v) {
    return tensor(g, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, NULL, 0, &v, sizeof v, 1);
}

static const char *ints(graph *g, const int64_t *v, size_t n) {
    int64_t dims[1] = {(int64_t)n};
    return tensor(g, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, 1, v, n * sizeof *v, 1);
}

static const char *int_scalar(graph *g, int64_t v) {
    return tensor(g, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, NULL, 0, &v, sizeof v, 1);
}

/* Attributes: of ints, an int, or a string. */
/* An attribute of the type, its value still to set. */
static Onnx__AttributeProto *attribute(graph *g, const char *name,
                                       Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = fresh(g, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = type;
    return a;
}

static Onnx__AttributeProto *attr_ints(graph *g, const char *name, const int64_t *v, size_t n) {
    Onnx__AttributeProto *a = attribute(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = fresh(g, n * sizeof *copy);
    if (!a || !copy) return NULL;
    a->n_ints = n;
    a->ints = memcpy(copy, v, n * sizeof *copy);
    return a;
}

static Onnx__AttributeProto *attr_i(graph *g, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attribute(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (!a) return NULL;
    a->has_i = 1;
    a->i = v;
    return a;
}

static Onnx__AttributeProto *attr_s(graph *g, const char *name, const char *v) {
    Onnx__AttributeProto *a = attribute(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    if (!a) return NULL;
    a->has_s = 1;
    a->s.data = (uint8_t *)v;
    a->s.len = strlen(v);
    return a;
}

/* A node of the op over the inputs (NULL-terminated), with up to two attributes (NULL: none);
 * the name of its output. */
static const char *node(graph *g, const char *name, Onnx__AttributeProto *attr,
                        Onnx__AttributeProto *attr2, ...) {
    Onnx__NodeProto *nd = fresh(g, sizeof *nd);
    char **in = fresh(g, 8 * sizeof *in), **out = fresh(g, sizeof *out);
    Onnx__AttributeProto **attrs = fresh(g, 2 * sizeof *attrs);
    if (!nd || !in || !out || !attrs || g->nnode == MAX_ITEMS) return g->failed = 1, "";
    onnx__node_proto__init(nd);
    va_list ap;
    va_start(ap, attr2);
    const char *a;
    while ((a = va_arg(ap, const char *)) && nd->n_input < 8) in[nd->n_input++] = (char *)a;
    va_end(ap);
    out[0] = text(g, "t%d", g->names++);
    nd->input = in;
    nd->n_output = 1;
    nd->output = out;
    nd->op_type = (char *)name;
    attrs[0] = attr;
    attrs[1] = attr2;
    nd->n_attribute = (size_t)(attr != NULL) + (attr2 != NULL);
    nd->attribute = attrs;
    g->node[g->nnode++] = nd;
    return out[0];
}

#define op(g, name, ...)         node(g, name, NULL, NULL, __VA_ARGS__, (const char *)NULL)
#define op_a(g, name, attr, ...) node(g, name, attr, NULL, __VA_ARGS__, (const char *)NULL)

/* Renames the output of the last node (a graph output's name). */
static void name_last(graph *g, const char *name) {
    if (g->nnode) g->node[g->nnode - 1]->output[0] = (char *)name;
}

/* A graph input or output of elem_type, its dims given as numbers (-1: the batch, "N"; -2:
 * the texts' feature count, nnz: one name for each side's, which differ). */
static void value(graph *g, int is_input, const char *name, int32_t elem, const int64_t *dims,
                  size_t n, const char *nnz) {
    Onnx__ValueInfoProto *v = fresh(g, sizeof *v);
    Onnx__TypeProto *t = fresh(g, sizeof *t);
    Onnx__TypeProto__Tensor *tt = fresh(g, sizeof *tt);
    Onnx__TensorShapeProto *sh = fresh(g, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **d = fresh(g, (n ? n : 1) * sizeof *d);
    if (!v || !t || !tt || !sh || !d) return (void)(g->failed = 1);
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (size_t i = 0; i < n; i++) {
        if (!(d[i] = fresh(g, sizeof *d[i]))) return (void)(g->failed = 1);
        onnx__tensor_shape_proto__dimension__init(d[i]);
        if (dims[i] >= 0) {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i]->dim_value = dims[i];
        } else {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[i]->dim_param = dims[i] == -1 ? "N" : (char *)nnz;
        }
    }
    sh->n_dim = n;
    sh->dim = d;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    tt->shape = sh;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->name = (char *)name;
    v->type = t;
    if (is_input && g->ninput < 16) g->input[g->ninput++] = v;
    if (!is_input && g->noutput < 4) g->output[g->noutput++] = v;
}

/* The activation's node on x. */
static const char *activate(graph *g, sc_act act, const char *x) {
    switch (act) {
    case SC_ACT_RELU:
        return op(g, "Relu", x);
    case SC_ACT_TANH:
        return op(g, "Tanh", x);
    case SC_ACT_SIGMOID:
        return op(g, "Sigmoid", x);
    case SC_ACT_IDENTITY:
        break;
    }
    return x;
}

/* act(x W + b), W (in x out) as the model keeps it. */
static const char *dense(graph *g, const sc_dense *d, const float *params, const char *x) {
    int64_t wd[2] = {d->in, d->out}, bd[1] = {d->out};
    const char *w = floats(g, params + d->w, wd, 2, 0), *b = floats(g, params + d->b, bd, 1, 0);
    return activate(g, d->act, op(g, "Gemm", x, w, b));
}

static const char *unsqueeze(graph *g, const char *x, int64_t axis) {
    return op(g, "Unsqueeze", x, ints(g, &axis, 1));
}

/* values (NNZ, or NNZ x width) added into rows (N of them) at their texts' rows (NNZ x 1). */
static const char *add_into(graph *g, const char *values, const char *rows, const char *shape) {
    const char *zeros = op(g, "Expand", scalar(g, 0.0f), shape);
    return op_a(g, "ScatterND", attr_s(g, "reduction", "add"), zeros, rows, values);
}

/* The embedding bag's output z (before the bias) of the texts (ids, weights, offsets): entry
 * k's text is the number of offsets at or below k, less one; the table's rows, weighted, are
 * added into their texts' rows, and in mean mode divided by each text's sum of weights (an
 * empty text, or one of weights summing to 0, keeps its sum). */
static const char *bag(graph *g, const sc_model *m, const float *params, const char *ids,
                       const char *weights, const char *offsets) {
    const sc_sparse_layer *l = &m->sparse;
    int64_t td[2] = {l->buckets, l->out}, one = 1, width = l->out;
    const char *table = floats(g, params + l->w, td, 2, 0);
    const char *terms = op(g, "Mul", op(g, "Gather", table, ids), unsqueeze(g, weights, 1));
    const char *count = op(g, "Squeeze", op(g, "Shape", ids));
    const char *place = op(g, "Range", int_scalar(g, 0), count, int_scalar(g, 1));
    const char *at_or_below =
        op(g, "LessOrEqual", unsqueeze(g, offsets, 0), unsqueeze(g, place, 1));
    const char *as_ints =
        op_a(g, "Cast", attr_i(g, "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT64), at_or_below);
    const char *below = op_a(g, "ReduceSum", attr_i(g, "keepdims", 0), as_ints, ints(g, &one, 1));
    const char *row = unsqueeze(g, op(g, "Sub", below, int_scalar(g, 1)), 1);
    const char *texts = op(g, "Shape", offsets);
    const char *shape = op_a(g, "Concat", attr_i(g, "axis", 0), texts, ints(g, &width, 1));
    const char *z = add_into(g, terms, row, shape);
    if (!l->mean) return z;
    const char *sums = add_into(g, weights, row, texts);
    const char *zero = op(g, "Equal", sums, scalar(g, 0.0f));
    const char *divisor = op(g, "Where", zero, scalar(g, 1.0f), sums);
    return op(g, "Div", z, unsqueeze(g, divisor, 1));
}

/* y / max(|y|, 1e-12) by rows, as the model normalizes. */
static const char *normalize(graph *g, const char *y) {
    int64_t one = 1; /* opset 17's ReduceL2 takes its axes as an attribute */
    const char *norm = node(g, "ReduceL2", attr_ints(g, "axes", &one, 1), attr_i(g, "keepdims", 1),
                            y, (const char *)NULL);
    return op(g, "Div", y, op(g, "Max", norm, scalar(g, 1e-12f)));
}

/* The tower over one side's inputs (prefix "" or "left_", "right_"): its embeddings. */
static const char *tower(graph *g, const sc_model *m, const float *params, const char *prefix) {
    const sc_model_config *c = &m->cfg;
    const char *x;
    int64_t rows[2] = {-1, c->input}, nnz[1] = {-2}, n[1] = {-1};
    if (c->sparse_input) {
        const char *ids = text(g, "%sids", prefix), *w = text(g, "%sweights", prefix);
        const char *off = text(g, "%soffsets", prefix), *count = text(g, "%sNNZ", prefix);
        value(g, 1, ids, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, nnz, 1, count);
        value(g, 1, w, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, nnz, 1, count);
        value(g, 1, off, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, n, 1, NULL);
        int64_t bd[1] = {m->sparse.out};
        x = op(g, "Add", bag(g, m, params, ids, w, off), floats(g, params + m->sparse.b, bd, 1, 0));
        x = activate(g, m->sparse.act, x);
    } else {
        x = text(g, "%srows", prefix);
        value(g, 1, x, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rows, 2, NULL);
    }
    for (int l = c->sparse_input ? 1 : 0; l < m->ntower; l++) x = dense(g, &m->tower[l], params, x);
    return c->normalize ? normalize(g, x) : x;
}

static const char *row_sum(graph *g, const char *x) {
    int64_t one = 1;
    return op_a(g, "ReduceSum", attr_i(g, "keepdims", 0), x, ints(g, &one, 1));
}

/* The head's similarity of the pairs (u[i], v[i]), then the range map: the scores. */
static const char *head(graph *g, const sc_model *m, const float *params, const char *u,
                        const char *v) {
    const char *sim;
    if (m->cfg.head == SC_HEAD_COSINE) {
        const char *len = op(g, "Mul", op(g, "Sqrt", row_sum(g, op(g, "Mul", u, u))),
                             op(g, "Sqrt", row_sum(g, op(g, "Mul", v, v))));
        sim = op(g, "Div", row_sum(g, op(g, "Mul", u, v)), op(g, "Max", len, scalar(g, 1e-8f)));
    } else if (m->cfg.head == SC_HEAD_EUCLIDEAN) {
        const char *d = op(g, "Sub", u, v);
        const char *dist =
            op(g, "Sqrt", op(g, "Add", row_sum(g, op(g, "Mul", d, d)), scalar(g, 1e-12f)));
        sim = op(g, "Exp", op(g, "Neg", dist));
    } else {
        const char *parts[5] = {u, v, op(g, "Abs", op(g, "Sub", u, v)), op(g, "Mul", u, v), NULL};
        int64_t fd[2] = {-1, m->cfg.pair_features}, one = 1;
        if (m->cfg.pair_features) {
            parts[4] = "pair_features";
            value(g, 1, parts[4], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, fd, 2, NULL);
        }
        const char *x = op_a(g, "Concat", attr_i(g, "axis", 1), parts[0], parts[1], parts[2],
                             parts[3], parts[4]);
        for (int l = 0; l < m->nhead; l++) x = dense(g, &m->head[l], params, x);
        sim = op(g, "Squeeze", x, ints(g, &one, 1));
    }
    if (m->cfg.output == SC_OUTPUT_RAW) return sim;
    float a = m->ab >= 0 ? params[m->ab] : 1.0f, b = m->ab >= 0 ? params[m->ab + 1] : 0.0f;
    float lo = m->cfg.target_min, hi = m->cfg.target_max;
    const char *s = op(g, "Sigmoid", op(g, "Add", op(g, "Mul", sim, scalar(g, a)), scalar(g, b)));
    return op(g, "Add", op(g, "Mul", s, scalar(g, hi - lo)), scalar(g, lo));
}

/* What the inputs are, for the metadata. */
static const char *inputs_said(graph *g, const sc_model *m, int pairs) {
    const char *side = m->cfg.sparse_input
                           ? "ids (int64: the hashed features of every text, one text after "
                             "another, as [features] of siamcl.config makes them), weights "
                             "(float: their values), offsets (int64, N: where each text begins)"
                           : "rows (float, N x input)";
    if (!pairs) return text(g, "%s; output embeddings (N x E)", side);
    return text(g, "left_ and right_ %s%s; output scores (N)", side,
                m->cfg.pair_features ? "; pair_features (float, N x F)" : "");
}

static Onnx__StringStringEntryProto *entry(graph *g, const char *key, const char *v) {
    Onnx__StringStringEntryProto *e = fresh(g, sizeof *e);
    if (!e) return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = (char *)key;
    e->value = (char *)v;
    return e;
}

/* protobuf-c's output, straight into the file. */
typedef struct file_buffer {
    ProtobufCBuffer base;
    FILE *f;
} file_buffer;

static void append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    fwrite(data, 1, len, ((file_buffer *)b)->f);
}

/* The model around the graph, written to path. */
static int write_model(graph *g, const sc_model *m, const char *config, int pairs,
                       const char *path) {
    Onnx__GraphProto gr = ONNX__GRAPH_PROTO__INIT;
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *sets[1] = {&opset};
    Onnx__StringStringEntryProto *meta[2] = {entry(g, "siamcl.config", config),
                                             entry(g, "siamcl.inputs", inputs_said(g, m, pairs))};
    if (g->failed || !meta[0] || !meta[1]) return sc_error(SC_ERR, "out of memory");
    gr.name = pairs ? "siamcl_scorer" : "siamcl_tower";
    gr.n_node = g->nnode, gr.node = g->node;
    gr.n_initializer = g->ninit, gr.initializer = g->init;
    gr.n_input = g->ninput, gr.input = g->input;
    gr.n_output = g->noutput, gr.output = g->output;
    opset.domain = "";
    opset.has_version = 1;
    opset.version = OPSET;
    model.has_ir_version = 1;
    model.ir_version = 8; /* opset 17's */
    model.n_opset_import = 1;
    model.opset_import = sets;
    model.producer_name = "siamcl";
    model.producer_version = SC_VERSION;
    model.graph = &gr;
    model.n_metadata_props = 2;
    model.metadata_props = meta;
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    file_buffer out = {{append}, f.file};
    onnx__model_proto__pack_to_buffer(&model, &out.base);
    return sc_atomic_commit(&f);
}

int sc_onnx_export(sc_model *m, const sc_config *cfg, int pairs, const char *path) {
    graph *g = calloc(1, sizeof *g);
    float *params = malloc(m->nparams * sizeof *params);
    char *config = NULL;
    int rc = g && params ? sc_model_get_params(m, params) : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_config_text(cfg, &config);
    int64_t out[2] = {-1, sc_model_embedding_width(m)}, n[1] = {-1};
    if (rc == SC_OK && !pairs) {
        tower(g, m, params, "");
        name_last(g, "embeddings");
        value(g, 0, "embeddings", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, out, 2, NULL);
    } else if (rc == SC_OK) {
        const char *u = tower(g, m, params, "left_"), *v = tower(g, m, params, "right_");
        head(g, m, params, u, v);
        name_last(g, "scores");
        value(g, 0, "scores", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, n, 1, NULL);
    }
    if (rc == SC_OK) rc = write_model(g, m, config, pairs, path);
    for (size_t i = 0; g && i < g->nowned; i++) free(g->owned[i]);
    free(g);
    free(params);
    free(config);
    return rc;
}

#else

int sc_onnx_export(sc_model *m, const sc_config *cfg, int pairs, const char *path) {
    (void)m, (void)cfg, (void)pairs;
    return sc_error(SC_EINPUT,
                    "%s: this siamcl was built without ONNX export (install libonnx-dev, "
                    "protobuf-c-compiler and libprotobuf-c-dev: tools/setup.sh, and rebuild)",
                    path);
}

#endif
