/* Errors are recorded where they are raised and printed by no one but the command line. */
#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Runs sc_error with stderr sent to a temporary file; returns the bytes written there. */
static long stderr_bytes_of_an_error(int code, const char *what) {
    FILE *tmp = tmpfile();
    if (!tmp) return -1;
    fflush(stderr);
    int saved = dup(fileno(stderr));
    dup2(fileno(tmp), fileno(stderr));
    sc_error(code, "%s", what);
    fflush(stderr);
    dup2(saved, fileno(stderr));
    close(saved);
    long n = ftell(tmp) < 0 ? -1 : (fseek(tmp, 0, SEEK_END), ftell(tmp));
    fclose(tmp);
    return n;
}

static void an_error_is_recorded_not_printed(void) {
    CHECK(stderr_bytes_of_an_error(SC_EINPUT, "bad.ini:3: a bad value") == 0,
          "sc_error wrote to stderr");
    CHECK(sc_last_error_code() == SC_EINPUT, "code %d", sc_last_error_code());
    CHECK(!strcmp(sc_last_error(), "bad.ini:3: a bad value"), "message: %s", sc_last_error());
    CHECK(sc_error(SC_ERR, "device lost") == SC_ERR);
    CHECK(sc_last_error_code() == SC_ERR && test_error_has("device lost"));
}

TEST_MAIN(TEST(an_error_is_recorded_not_printed))
