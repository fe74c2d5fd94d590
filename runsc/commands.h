#ifndef RC_RUNSC_COMMANDS_H
#define RC_RUNSC_COMMANDS_H

int cmd_run(int argc, char **argv);

#endif
