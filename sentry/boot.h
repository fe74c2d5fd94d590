#ifndef RC_SENTRY_BOOT_H
#define RC_SENTRY_BOOT_H

/* The entry point of `runsc-c boot` (the sentry process). */
int sentry_main(int argc, char **argv);

#endif
