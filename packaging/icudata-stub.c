/* Stands in for Qt's ICU data library (libicudata.so.NN, 31 MB) in the Linux
   bundle: the same exported entry point (ICU_ENTRY, icudtNN_dat, set by the
   spec), holding ICU's common-data header with an empty table of contents.
   ICU then finds no locale data: QCollator falls back to comparing code
   points; Triage sorts in Python and SQL, never through ICU, and nothing else
   it uses from Qt needs ICU data (see docs/packaging.md, "Size"). */
#include <stdint.h>

struct icu_data_header {
  uint16_t header_size;
  uint8_t magic1, magic2;
  struct {
    uint16_t size, reserved;
    uint8_t is_big_endian, charset_family, sizeof_uchar, reserved_byte;
    uint8_t data_format[4], format_version[4], data_version[4];
  } info;
  char padding[8];
  uint32_t count, reserved;
  int32_t table_of_contents[4];
};

__attribute__((visibility("default"))) const struct icu_data_header ICU_ENTRY = {
    32, 0xda, 0x27,
    {20, 0, 0 /* little endian */, 0 /* ASCII */, 2 /* UTF-16 code unit */, 0,
     {'T', 'o', 'C', 'P'}, {1, 0, 0, 0}, {0, 0, 0, 0}},
    {0}, 0 /* no entries */, 0, {0, 0, 0, 0}};
