// A kernel that must not compile: the runtime has to report this file and the build log.
kernel void broken(global float *x) {
    x[get_global_id(0)] = undefined_identifier_in_broken_cl;
}
