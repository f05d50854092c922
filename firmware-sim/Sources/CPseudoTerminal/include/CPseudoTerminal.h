#ifndef FIRMWARE_SIM_CPSEUDOTERMINAL_H
#define FIRMWARE_SIM_CPSEUDOTERMINAL_H
#include <stddef.h>

/* posix_openpt, grantpt, unlockpt and ptsname_r are XSI/GNU functions that Swift's Glibc module
   does not declare (it is built without _XOPEN_SOURCE). These wrappers are compiled with
   _GNU_SOURCE in pty.c and do nothing but call them. */
int fws_posix_openpt(int flags);
int fws_grantpt(int fd);
int fws_unlockpt(int fd);
/* Returns 0 or an errno value, like ptsname_r. */
int fws_ptsname_r(int fd, char *buffer, size_t length);

#endif
