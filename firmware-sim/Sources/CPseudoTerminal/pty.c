#define _GNU_SOURCE
#include <stdlib.h>
#include "CPseudoTerminal.h"

int fws_posix_openpt(int flags) { return posix_openpt(flags); }
int fws_grantpt(int fd) { return grantpt(fd); }
int fws_unlockpt(int fd) { return unlockpt(fd); }
int fws_ptsname_r(int fd, char *buffer, size_t length) { return ptsname_r(fd, buffer, length); }
