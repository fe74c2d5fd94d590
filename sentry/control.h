#ifndef RC_SENTRY_CONTROL_H
#define RC_SENTRY_CONTROL_H

/* Serves the control channel on fd until it closes or asks for shutdown;
 * then every process of the sandbox is killed. */
int control_serve(int fd);

#endif
