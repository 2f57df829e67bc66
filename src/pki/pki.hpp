// The factory PKI in one include: certificate profiles, key storage (file or PKCS#11), and the
// working-directory CA operations behind `ztp ca`.
#pragma once

#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"
#include "pki/key_store.hpp"
#include "pki/profiles.hpp"
