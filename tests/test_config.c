/* INI configuration: values, bounds, overrides, and every kind of bad input naming its place. */
#include "harness.h"
#include "reference.h"

#include "siamcl/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Writes cfg as sc_config_write does and reads the text back; NULL when it does not parse. */
static sc_config *written_and_read(const sc_config *cfg, char *text, size_t size) {
    memset(text, 0, size);
    FILE *f = fmemopen(text, size - 1, "w");
    if (!f || sc_config_write(cfg, f) != SC_OK) return NULL;
    fclose(f);
    sc_config *again;
    return sc_config_parse(text, "written", &again) == SC_OK ? again : NULL;
}

/* Found by fuzzing (tests/fuzz/config/): "k =;x" held the value ";x", but was written
 * "k = ;x", which reads back empty (" ;" starts a comment); and a line of up to 198 characters
 * without spaces around '=' came back two characters longer, past the reader's limit. */
static void values_that_need_care_round_trip(void) {
    char text[1024], long_value[200];
    memset(long_value, 'v', 193); /* "long=" and this: 198 characters, the most a line holds */
    long_value[193] = '\0';
    snprintf(text, sizeof text, "[s]\nk =;x\nlong=%s\n", long_value);
    sc_config *cfg, *again;
    CHECK_OK(sc_config_parse(text, "test", &cfg));
    again = written_and_read(cfg, text, sizeof text);
    CHECK(again != NULL, "wrote:\n%s\n-> %s", text, sc_last_error());
    const char *v;
    CHECK_OK(sc_cfg_str(again, "s", "k", "", &v));
    CHECK(!strcmp(v, ";x"), "read back '%s' from:\n%s", v, text);
    CHECK_OK(sc_cfg_str(again, "s", "long", "", &v));
    CHECK(!strcmp(v, long_value));
    sc_config_free(again);
    sc_config_free(cfg);
}

/* An override is written into checkpoints with the config, so it must be something a config
 * file could say; before, "-o s.k=a ;b" gave a checkpoint whose config said k = a. */
static void overrides_a_file_cannot_hold_are_refused(void) {
    sc_config *cfg;
    CHECK_OK(sc_config_parse("[s]\nk = 1\n", "test", &cfg));
    static const char *const bad[] = {"s.k=a\nj = 2", "s.k= lead", "s.k=trail ", "s.k=a ;b",
                                      "s.k:j=1",      "s. k=1",    "s.k\n=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(sc_config_override(cfg, bad[i]) == SC_EINPUT, "'%s' accepted", bad[i]);
        CHECK(test_error_has("a config file cannot say this"), "message: %s", sc_last_error());
    }
    char big[300];
    snprintf(big, sizeof big, "s.k=%0250d", 7);
    CHECK(sc_config_override(cfg, big) == SC_EINPUT);
    CHECK_OK(sc_config_override(cfg, "s.k=;fine"));
    CHECK_OK(sc_config_override(cfg, "s.path=/a b/c.csv"));
    CHECK_OK(sc_config_override(cfg, "s.empty="));
    char text[512];
    sc_config *again = written_and_read(cfg, text, sizeof text);
    CHECK(again != NULL, "wrote:\n%s", text);
    const char *v;
    CHECK_OK(sc_cfg_str(again, "s", "k", "", &v));
    CHECK(!strcmp(v, ";fine"), "read back '%s'", v);
    sc_config_free(again);
    sc_config_free(cfg);
}

/* A NUL byte hid the rest of its line from the long-line check (fgets and strlen), so the
 * part past 198 bytes was read as a line of its own: here the key "injected". Now the line is
 * too long, and a NUL byte in a short line is an error of its own. */
static void nul_bytes_are_errors(void) {
    char path[64], text[400];
    snprintf(path, sizeof path, "/tmp/siamcl_test_nul_%d.ini", (int)getpid());
    size_t n = (size_t)snprintf(text, sizeof text, "[train]\nepochs = 3");
    text[n++] = '\0';
    memset(text + n, ' ', 220);
    n += 220;
    n += (size_t)snprintf(text + n, sizeof text - n, "injected = 1\n");
    test_write_bytes(path, text, n);
    sc_config *cfg = NULL;
    CHECK(sc_config_load(path, &cfg) == SC_EINPUT);
    CHECK(test_error_has(":2:") && test_error_has("longer than"), "message: %s", sc_last_error());
    CHECK(cfg == NULL);
    test_write_bytes(path, "[a]\nx = 1\0\n", 12);
    CHECK(sc_config_load(path, &cfg) == SC_EINPUT);
    CHECK(test_error_has(":2:") && test_error_has("NUL byte"), "message: %s", sc_last_error());
    unlink(path);
}

TEST_MAIN(TEST(typed_values), TEST(unknown_key_names_file_line_and_key),
          TEST(bad_values_are_errors), TEST(malformed_files_are_errors),
          TEST(missing_and_unreadable_files), TEST(overrides_replace_and_are_validated),
          TEST(effective_config_round_trips), TEST(values_that_need_care_round_trip),
          TEST(overrides_a_file_cannot_hold_are_refused), TEST(nul_bytes_are_errors))
