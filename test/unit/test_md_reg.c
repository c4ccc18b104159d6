/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_reg.c.
 */
#include "md_unit.h"

Suite *md_test_reg_suite(void)
{
    Suite *s = suite_create("md_reg");
    return s;
}
