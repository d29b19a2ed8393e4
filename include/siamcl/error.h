/* Error reporting: every failure prints one line naming what and where, and returns a status
 * that the command line turns into its exit code. */
#ifndef SIAMCL_ERROR_H
#define SIAMCL_ERROR_H

#include <CL/cl.h>

/* Status codes; a nonzero status is also the program's exit code. */
enum { SC_OK = 0, SC_ERR = 1, SC_EINPUT = 2 };

/* Formats a message, keeps it for sc_last_error(), prints "siamcl: <message>" to stderr
 * unless quiet, and returns code. */
int sc_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last message given to sc_error(). */
const char *sc_last_error(void);

/* Silences printing (tests that provoke errors on purpose read sc_last_error instead). */
void sc_error_set_quiet(int quiet);

/* The symbolic name of an OpenCL status code, "CL_UNKNOWN_ERROR" for codes it does not know. */
const char *sc_cl_error_name(cl_int err);

/* Reports a failed OpenCL call by name with its source location; returns SC_ERR. */
int sc_cl_fail(cl_int err, const char *call, const char *file, int line);

/* Checks an OpenCL status and returns SC_ERR from the calling function on failure. */
#define SC_CL_CHECK(call)                                                                          \
    do {                                                                                           \
        cl_int sc_err_ = (call);                                                                   \
        if (sc_err_ != CL_SUCCESS) return sc_cl_fail(sc_err_, #call, __FILE__, __LINE__);          \
    } while (0)

/* Returns the status of an expression from the calling function when it is not SC_OK. */
#define SC_TRY(expr)                                                                               \
    do {                                                                                           \
        int sc_rc_ = (expr);                                                                       \
        if (sc_rc_ != SC_OK) return sc_rc_;                                                        \
    } while (0)

#endif
