/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: command lines of MDMessageCmd, MDNotifyCmd and
 * MDChallengeDns01 as md_util_cmd_argv splits them (quotes, escapes,
 * blanks) before the extra arguments are appended: the array must end in
 * NULL after the extras, each element a string. fuzz-seconds-max: 8
 */
#include "fuzz_common.h"

#include "md.h"
#include "md_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char **argv = NULL;
    int i;

    if (APR_SUCCESS == md_util_cmd_argv(&argv, p, fuzz_str(data, size, p), "renewed",
                                        "example.org", NULL)) {
        for (i = 0; argv[i]; ++i) {
            if (strlen(argv[i]) > size + 16) {
                abort();
            }
        }
        if (i < 2 || strcmp("renewed", argv[i - 2]) || strcmp("example.org", argv[i - 1])) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
