/* version.h - hanfw's version. */
#ifndef HFW_VERSION_H
#define HFW_VERSION_H

#define HFW_VERSION "0.1.0"

#endif
