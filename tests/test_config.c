/* INI configuration: values, bounds, overrides, and every kind of bad input naming its place. */
#include "harness.h"
#include "reference.h"

#include "siamcl/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void typed_values(void) {
    sc_config *cfg;
    CHECK_OK(ref_config_from("; comment\n[model]\nlayers = 256, 128,64\nhead = mlp ; inline\n"
                             "[train]\nlr = 1e-3\nepochs = 50\nnormalize = yes\n",
                             &cfg));
    int layers[8], n, head, flag;
    long epochs, missing;
    double lr;
    static const char *const heads[] = {"cosine", "euclidean", "mlp", NULL};
    CHECK_OK(sc_cfg_int_list(cfg, "model", "layers", "1", 1, layers, 8, &n));
    CHECK(n == 3 && layers[0] == 256 && layers[1] == 128 && layers[2] == 64);
    CHECK_OK(sc_cfg_enum(cfg, "model", "head", heads, 0, &head));
    CHECK(head == 2);
    CHECK_OK(sc_cfg_float(cfg, "train", "lr", 0, 0, 1, &lr));
    CHECK(lr == 1e-3);
    CHECK_OK(sc_cfg_int(cfg, "train", "epochs", 1, 1, 1000, &epochs));
    CHECK(epochs == 50);
    CHECK_OK(sc_cfg_bool(cfg, "train", "normalize", 0, &flag));
    CHECK(flag == 1);
    CHECK_OK(sc_cfg_int(cfg, "train", "missing", 7, 0, 10, &missing));
    CHECK(missing == 7);
    CHECK_OK(sc_config_check_unused(cfg));
    sc_config_free(cfg);
}

static void unknown_key_names_file_line_and_key(void) {
    sc_config *cfg;
    CHECK_OK(ref_config_from("[train]\nepochs = 3\n\nbach_size = 32\n", &cfg));
    long v;
    CHECK_OK(sc_cfg_int(cfg, "train", "epochs", 1, 1, 10, &v));
    CHECK(sc_config_check_unused(cfg) == SC_EINPUT);
    CHECK(test_error_has(":4:") && test_error_has("bach_size") && test_error_has(ref_config_path()),
          "message: %s", sc_last_error());
    sc_config_free(cfg);
}

static void bad_values_are_errors(void) {
    sc_config *cfg;
    CHECK_OK(ref_config_from("[model]\nlayers = 256,,x\nwidth = -3\nhead = siamese\nlr = fast\n"
                             "flag = maybe\n",
                             &cfg));
    int layers[8], n, e, flag;
    long width;
    double lr;
    static const char *const heads[] = {"cosine", "mlp", NULL};
    CHECK(sc_cfg_int_list(cfg, "model", "layers", "1", 1, layers, 8, &n) == SC_EINPUT);
    CHECK(test_error_has(":2:") && test_error_has("layers"), "message: %s", sc_last_error());
    CHECK(sc_cfg_int(cfg, "model", "width", 1, 1, 100, &width) == SC_EINPUT);
    CHECK(test_error_has(":3:") && test_error_has("1..100"), "message: %s", sc_last_error());
    CHECK(sc_cfg_enum(cfg, "model", "head", heads, 0, &e) == SC_EINPUT);
    CHECK(test_error_has(":4:") && test_error_has("cosine, mlp"), "message: %s", sc_last_error());
    CHECK(sc_cfg_float(cfg, "model", "lr", 0, 0, 1, &lr) == SC_EINPUT);
    CHECK(test_error_has(":5:"), "message: %s", sc_last_error());
    CHECK(sc_cfg_bool(cfg, "model", "flag", 0, &flag) == SC_EINPUT);
    CHECK(test_error_has(":6:"), "message: %s", sc_last_error());
    sc_config_free(cfg);
}

static void malformed_files_are_errors(void) {
    sc_config *cfg = NULL;
    CHECK(ref_config_from("[train]\nepochs = 3\nthis line has no equals sign\n", &cfg) ==
          SC_EINPUT);
    CHECK(test_error_has(":3:") && test_error_has("malformed"), "message: %s", sc_last_error());
    CHECK(ref_config_from("[train]\nepochs = 3\nepochs = 4\n", &cfg) == SC_EINPUT);
    CHECK(test_error_has(":3:") && test_error_has("duplicate"), "message: %s", sc_last_error());
    CHECK(ref_config_from("epochs = 3\n", &cfg) == SC_EINPUT);
    CHECK(test_error_has(":1:") && test_error_has("outside any [section]"), "message: %s",
          sc_last_error());
    CHECK(ref_config_from("[train\nepochs = 3\n", &cfg) == SC_EINPUT);
    CHECK(test_error_has(":1:"), "message: %s", sc_last_error());
    CHECK(cfg == NULL);
}

static void missing_and_unreadable_files(void) {
    sc_config *cfg;
    CHECK(sc_config_load("/nonexistent/siamcl.ini", &cfg) == SC_EINPUT);
    CHECK(test_error_has("/nonexistent/siamcl.ini") && test_error_has("No such file"),
          "message: %s", sc_last_error());
    CHECK(sc_config_load("/tmp", &cfg) == SC_EINPUT);
    CHECK(test_error_has("is a directory"), "message: %s", sc_last_error());
}

static void overrides_replace_and_are_validated(void) {
    sc_config *cfg;
    CHECK_OK(ref_config_from("[train]\nepochs = 3\n", &cfg));
    CHECK_OK(sc_config_override(cfg, "train.epochs=9"));
    CHECK_OK(sc_config_override(cfg, "train.batch_size=abc"));
    CHECK(sc_config_override(cfg, "epochs=9") == SC_EINPUT, "no section must fail");
    CHECK(sc_config_override(cfg, "train.epochs") == SC_EINPUT, "no value must fail");
    long v;
    CHECK_OK(sc_cfg_int(cfg, "train", "epochs", 1, 1, 100, &v));
    CHECK(v == 9, "override gave %ld", v);
    CHECK(sc_cfg_int(cfg, "train", "batch_size", 1, 1, 100, &v) == SC_EINPUT);
    CHECK(test_error_has("command line") && test_error_has("train.batch_size"), "message: %s",
          sc_last_error());
    sc_config_free(cfg);
}

static void effective_config_round_trips(void) {
    sc_config *cfg, *again;
    CHECK_OK(ref_config_from("[a]\nx = 1\n[b]\ny = two\n[a]\nz = 3\n", &cfg));
    CHECK_OK(sc_config_override(cfg, "b.y=three"));
    char text[512] = {0};
    FILE *f = fmemopen(text, sizeof text - 1, "w");
    CHECK(f != NULL);
    CHECK_OK(sc_config_write(cfg, f));
    fclose(f);
    CHECK(!strcmp(text, "[a]\nx = 1\nz = 3\n\n[b]\ny = three\n"), "wrote:\n%s", text);
    CHECK_OK(ref_config_from(text, &again));
    const char *s;
    CHECK_OK(sc_cfg_str(again, "b", "y", "", &s));
    CHECK(!strcmp(s, "three"));
    sc_config_free(again);
    sc_config_free(cfg);
}

TEST_MAIN(TEST(typed_values), TEST(unknown_key_names_file_line_and_key),
          TEST(bad_values_are_errors), TEST(malformed_files_are_errors),
          TEST(missing_and_unreadable_files), TEST(overrides_replace_and_are_validated),
          TEST(effective_config_round_trips))
