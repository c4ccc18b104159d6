/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_store.c.
 */
#include "md_unit.h"

Suite *md_test_store_suite(void)
{
    Suite *s = suite_create("md_store");
    return s;
}
