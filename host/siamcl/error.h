/* Errors: a failing function records one message naming what and where, and returns a status;
 * nothing is printed where the error is raised. The caller decides: the command line prints the
 * message once and exits with the status; an optional probe that fails simply goes on. */
#ifndef SIAMCL_ERROR_H
#define SIAMCL_ERROR_H

#include <CL/cl.h>

#include "siamcl/status.h" /* SC_OK, SC_ERR, SC_EINPUT */

/* Records the message and code as this thread's last error, and returns code. */
int sc_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* This thread's last recorded message ("" before any) and its code (SC_OK before any). */
SC_API const char *sc_last_error(void);
SC_API int sc_last_error_code(void);

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
