/*
 * version.h — the version `ember --version` prints. The build may pass -DEMBER_VERSION="x.y.z";
 * without it this development default is used.
 */
#ifndef EMBER_CLI_VERSION_H
#define EMBER_CLI_VERSION_H

#ifndef EMBER_VERSION
#define EMBER_VERSION "0.1.0-dev"
#endif

#endif
