/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_status.c.
 */
#include "md_unit.h"

Suite *md_test_status_suite(void)
{
    Suite *s = suite_create("md_status");
    return s;
}
