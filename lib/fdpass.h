/* Passing fds over a Unix socket with SCM_RIGHTS: one datagram of one
 * byte carrying them, as the stubs and factories expect to receive. */
#ifndef RC_LIB_FDPASS_H
#define RC_LIB_FDPASS_H

/* Sends n (1 or 2) fds on sock in one message. 0 or -errno. */
int fdpass_send(int sock, const int *fds, int n);

#endif
