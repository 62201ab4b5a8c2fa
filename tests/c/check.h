/*
 * The check macro of the C test programs: counts passes and failures, names
 * the failing expression, and ends with one "N passed, N failed" line.
 */
#pragma once
#include <errno.h>
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (cond) {                                                                                          \
            check_passed++;                                                                                  \
        } else {                                                                                             \
            check_failed++;                                                                                  \
            fprintf(stderr, "FAIL %s:%d: %s (errno %d)\n", __FILE__, __LINE__, #cond, errno);               \
        }                                                                                                    \
    } while (0)

/* Prints the summary for test `name`; returns the exit status. */
static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}
