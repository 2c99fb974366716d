// The text of --stub-etc's files, written for bakefs (see stub_etc_files.cpp).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_NETBSD_ETC_STUB_ETC_FILES_H
#define BAKEFS_HOST_NETBSD_ETC_STUB_ETC_FILES_H

namespace bakefs::build::stub_etc_files {

extern const char* const kMasterPasswd;
extern const char* const kGroup;
extern const char* const kHosts;
extern const char* const kNsswitch;
extern const char* const kResolvConf;
extern const char* const kProtocols;
extern const char* const kServices;

}  // namespace bakefs::build::stub_etc_files

#endif  // BAKEFS_HOST_NETBSD_ETC_STUB_ETC_FILES_H
