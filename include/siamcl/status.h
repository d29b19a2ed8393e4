/* siamcl's status codes. Every function of the library that can fail returns one and records
 * a message (sc_last_error); the siamcl program exits with the same number. */
#ifndef SIAMCL_STATUS_H
#define SIAMCL_STATUS_H

/* The functions of the stable API (siamcl.h): the only ones libsiamcl.so exports. */
#define SC_API __attribute__((visibility("default")))

enum {
    SC_OK = 0,     /* success */
    SC_ERR = 1,    /* the device, the OpenCL runtime or the system failed */
    SC_EINPUT = 2, /* bad input: a file, an argument, a handle */
};

#endif
