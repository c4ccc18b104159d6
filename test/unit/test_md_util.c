/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_util.c.
 */
#include "md_unit.h"

Suite *md_test_util_suite(void)
{
    Suite *s = suite_create("md_util");
    return s;
}
