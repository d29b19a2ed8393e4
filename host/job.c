#include "siamcl/job.h"
#include "siamcl/evaluate.h"

#include <limits.h>
#include <math.h>
#include <string.h>

const char *const sc_data_format_names[] = {"idx", "csv", "npy", NULL};

/* [data] group and split: rows (text) or pairs (vectors) dealt out by group. */
static int read_split(sc_config *cfg, sc_data_config *d) {
    int n;
    SC_TRY(sc_cfg_str(cfg, "data", "group", "", &d->group));
    SC_TRY(sc_cfg_int_list(cfg, "data", "split", "70,10,20", 0, d->split, 3, &n));
    /* summed in 64 bits: each share may be up to 2^30, and three of them overflow an int */
    if (n != 3 || (int64_t)d->split[0] + d->split[1] + d->split[2] != 100 || !d->split[0] ||
        !d->split[1])
        return sc_cfg_invalid(cfg, "data", "split",
                              "expected train,validation,test percentages adding up to 100, "
                              "train and validation above 0");
    return SC_OK;
}

static int read_csv_data(sc_config *cfg, sc_data_config *d) {
    int enc;
    SC_TRY(sc_cfg_enum(cfg, "data", "encoding", sc_encoding_names, SC_UTF8, &enc));
    d->encoding = (sc_encoding)enc;
    SC_TRY(sc_cfg_str(cfg, "data", "left", "search_term", &d->left));
    SC_TRY(sc_cfg_str(cfg, "data", "right", "product_title", &d->right));
    SC_TRY(sc_cfg_str(cfg, "data", "target", "relevance", &d->target));
    SC_TRY(read_split(cfg, d));
    return sc_features_config_read(cfg, &d->features);
}

/* npy with labels: a test set of its own (vectors and labels together), else a seeded share
 * of the rows held out for test. */
static int read_npy_labels(sc_config *cfg, sc_data_config *d) {
    SC_TRY(sc_cfg_str(cfg, "data", "test", "", &d->test));
    SC_TRY(sc_cfg_str(cfg, "data", "test_labels", "", &d->test_labels));
    if (*d->test && !*d->test_labels)
        return sc_cfg_invalid(cfg, "data", "test",
                              "needs [data] test_labels, the labels of the test vectors");
    if (*d->test_labels && !*d->test)
        return sc_cfg_invalid(cfg, "data", "test_labels",
                              "needs [data] test, the test vectors these labels belong to");
    if (!*d->test) {
        SC_TRY(sc_cfg_float(cfg, "data", "test_fraction", 0.2, 0.0, 0.9, &d->test_fraction));
        if (d->test_fraction <= 0)
            return sc_cfg_invalid(cfg, "data", "test_fraction",
                                  "expected a share above 0 (or [data] test and test_labels)");
    }
    return sc_cfg_float(cfg, "data", "validation", 0.1, 0.0, 0.9, &d->validation);
}

/* npy with a CSV of pairs: split by group as the text kind's rows. */
static int read_npy_pairs(sc_config *cfg, sc_data_config *d) {
    SC_TRY(sc_cfg_str(cfg, "data", "right_vectors", "", &d->right_vectors));
    return read_split(cfg, d);
}

/* npy: the vectors (no default: they are the user's own), paired by labels or by a CSV. */
static int read_npy_data(sc_config *cfg, sc_data_config *d) {
    SC_TRY(sc_cfg_str(cfg, "data", "path", "", &d->path));
    if (!*d->path)
        return sc_cfg_invalid(cfg, "data", "path", "format = npy needs the .npy file of vectors");
    SC_TRY(sc_cfg_str(cfg, "data", "labels", "", &d->labels));
    SC_TRY(sc_cfg_str(cfg, "data", "pairs", "", &d->pairs));
    if (*d->labels && *d->pairs)
        return sc_cfg_invalid(cfg, "data", "pairs",
                              "[data] labels and pairs are two ways to pair the vectors; give "
                              "one of them");
    if (!*d->labels && !*d->pairs)
        return sc_cfg_invalid(cfg, "data", "labels",
                              "format = npy needs [data] labels = FILE.npy (class labels) or "
                              "[data] pairs = FILE.csv (left,right,target)");
    return *d->labels ? read_npy_labels(cfg, d) : read_npy_pairs(cfg, d);
}

static int read_data(sc_config *cfg, sc_data_config *d) {
    int format;
    SC_TRY(sc_cfg_enum(cfg, "data", "format", sc_data_format_names, SC_DATA_IDX, &format));
    d->format = (sc_data_format)format;
    if (d->format == SC_DATA_CSV) {
        SC_TRY(sc_cfg_str(cfg, "data", "path", "data/home-depot/train.csv", &d->path));
        return read_csv_data(cfg, d);
    }
    if (d->format == SC_DATA_NPY) return read_npy_data(cfg, d);
    SC_TRY(sc_cfg_str(cfg, "data", "path", "/usr/share/datasets/fashion-mnist", &d->path));
    return sc_cfg_float(cfg, "data", "validation", 0.1, 0.0, 0.9, &d->validation);
}

int sc_features_config_read(sc_config *cfg, sc_features_config *out) {
    const char *s = "features";
    long buckets;
    int weighting;
    SC_TRY(sc_cfg_bool(cfg, s, "trigrams", 1, &out->trigrams));
    SC_TRY(sc_cfg_bool(cfg, s, "unigrams", 1, &out->unigrams));
    SC_TRY(sc_cfg_bool(cfg, s, "bigrams", 0, &out->bigrams));
    SC_TRY(sc_cfg_int(cfg, s, "buckets", SC_BUCKETS_DEFAULT, LONG_MIN, LONG_MAX, &buckets));
    SC_TRY(sc_cfg_enum(cfg, s, "weighting", sc_weighting_names, SC_WEIGHT_COUNT, &weighting));
    if (!sc_buckets_valid(buckets))
        return sc_cfg_invalid(cfg, s, "buckets", "expected a power of two in 16..16777216");
    /* trigrams is on unless set, so when every family is off it was set */
    if (!out->trigrams && !out->unigrams && !out->bigrams)
        return sc_cfg_invalid(cfg, s, "trigrams",
                              "trigrams, unigrams and bigrams are all off; turn one on");
    out->buckets = (uint32_t)buckets;
    out->weighting = (sc_weighting)weighting;
    return SC_OK;
}

static const char *const monitor_names[] = {"loss", "quality", NULL};

static int read_train(sc_config *cfg, sc_train_config *t) {
    long batch, epochs, patience, seed, ensemble, member;
    SC_TRY(sc_cfg_int(cfg, "train", "batch_size", 32, 1, 1 << 16, &batch));
    SC_TRY(sc_cfg_int(cfg, "train", "epochs", 50, 1, 1000000, &epochs));
    SC_TRY(sc_cfg_int(cfg, "train", "patience", 3, 0, 1000000, &patience));
    SC_TRY(sc_cfg_float(cfg, "train", "min_delta", 1e-3, 0, 1e9, &t->min_delta));
    SC_TRY(sc_cfg_enum(cfg, "train", "monitor", monitor_names, 0, &t->monitor_quality));
    SC_TRY(sc_cfg_int(cfg, "train", "seed", 42, 0, 0x7fffffffL, &seed));
    SC_TRY(sc_cfg_int(cfg, "train", "checkpoint_every", 0, 0, 1L << 40, &t->checkpoint_every));
    SC_TRY(sc_cfg_int(cfg, "train", "ensemble", 1, 1, SC_ENSEMBLE_MAX, &ensemble));
    SC_TRY(sc_cfg_int(cfg, "train", "member", 0, 0, SC_ENSEMBLE_MAX - 1, &member));
    t->ensemble = (int)ensemble;
    t->member = (int)member;
    t->batch_size = (size_t)batch;
    t->epochs = (int)epochs;
    t->patience = (int)patience;
    t->seed = (uint64_t)seed;
    SC_TRY(sc_loss_config_read(cfg, &t->loss));
    return sc_optim_config_read(cfg, &t->optim);
}

/* runs/<the config file's name without folder and .ini>. */
static void default_out_dir(const sc_config *cfg, char *out, size_t n) {
    const char *path = sc_config_path(cfg) ? sc_config_path(cfg) : "siamcl";
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t len = strlen(base);
    if (len > 4 && !strcmp(base + len - 4, ".ini")) len -= 4;
    snprintf(out, n, "runs/%.*s", (int)len, base);
}

int sc_job_read(sc_config *cfg, sc_job *job) {
    memset(job, 0, sizeof *job);
    job->cfg = cfg;
    job->target_mean = NAN;
    const char *select, *dir;
    SC_TRY(sc_cfg_str(cfg, "device", "select", "auto", &select));
    SC_TRY(read_data(cfg, &job->data));
    SC_TRY(sc_model_config_read(cfg, &job->model));
    if (job->data.format == SC_DATA_CSV) { /* text: an embedding bag over the hashed features */
        int buckets = (int)job->data.features.buckets;
        if (job->model.input && job->model.input != buckets)
            return sc_cfg_invalid(cfg, "model", "input",
                                  "text input is as wide as [features] buckets; leave it out");
        job->model.input = buckets;
        job->model.sparse_input = 1;
        SC_TRY(sc_model_bag_read(cfg, &job->model));
    }
    if (job->model.pair_features && job->data.format != SC_DATA_CSV)
        return sc_cfg_invalid(cfg, "model", "pair_features",
                              "overlap compares the two texts of a pair: text data ([data] "
                              "format = csv) only");
    SC_TRY(read_train(cfg, &job->train));
    SC_TRY(sc_model_config_check(cfg, &job->model, &job->train.loss));
    char def[sizeof job->out_dir];
    default_out_dir(cfg, def, sizeof def);
    SC_TRY(sc_cfg_str(cfg, "output", "dir", def, &dir));
    /* an empty dir would put the run's files in / (dir + "/model.safetensors") */
    if (!*dir) return sc_cfg_invalid(cfg, "output", "dir", "expected a folder, not nothing");
    if (strlen(dir) >= sizeof job->out_dir)
        return sc_cfg_invalid(cfg, "output", "dir", "longer than 1023 bytes");
    snprintf(job->out_dir, sizeof job->out_dir, "%s", dir);
    return sc_config_check_unused(cfg);
}

size_t sc_job_infer_batch(void) {
    return SC_DENSE_BLOCK_ROWS / 2;
}

size_t sc_job_eval_batch(const sc_job *job) {
    size_t b = job->train.batch_size;
    return sc_loss_is_batchwise(job->train.loss.kind) || b >= 256 ? b : 256;
}
