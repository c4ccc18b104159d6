/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: private keys as the store reads them: PEM (PKCS#8
 * encrypted with the store key, or plain) through md_pkey_read_pem with the
 * store key of the seeds, then written again encrypted and read back. Byte
 * 0 picks the passphrase: the seeds' store key, a wrong one, or none.
 * fuzz-seconds-max: 8
 */
#include "fuzz_common.h"

#include "md.h"
#include "md_crypto.h"

/* The seeds' "store key" (48 bytes, as md_store.json holds it decoded). */
#define FUZZ_KEY "fuzz-store-key-0123456789abcdef0123456789abcdef!"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    md_pkey_t *pkey, *again;
    const char *pass = NULL, *pem;
    apr_size_t pass_len = 0;

    if (size < 1) return 0;
    p = fuzz_pool();
    switch (data[0] % 3) {
    case 0:
        pass = FUZZ_KEY;
        pass_len = strlen(FUZZ_KEY);
        break;
    case 1:
        pass = "wrong";
        pass_len = 5;
        break;
    default:
        break;
    }
    if (APR_SUCCESS == md_pkey_read_pem(&pkey, p, pass, pass_len,
                                        (const char *)data + 1, size - 1)
        && APR_SUCCESS == md_pkey_to_pem(&pem, pkey, p, FUZZ_KEY, strlen(FUZZ_KEY))) {
        if (APR_SUCCESS != md_pkey_read_pem(&again, p, FUZZ_KEY, strlen(FUZZ_KEY), pem,
                                            strlen(pem))) {
            abort();            /* what we write we must read */
        }
    }
    apr_pool_destroy(p);
    return 0;
}
