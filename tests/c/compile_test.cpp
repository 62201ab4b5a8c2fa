// gonetif — tests/c/compile_test.cpp
//
// The same translation unit as compile_test.c, compiled as C++: checks that
// the headers (extern "C", designated initializers of the default-config
// macros, enum flag casts, the anonymous netstack union) work for C++
// applications too.  Compile only:
//   g++ -std=gnu++20 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -c tests/c/compile_test.cpp -o /tmp/ctpp.o
//   g++ -std=gnu++20 -Wall -Wextra -Werror -D_GNU_SOURCE -DGONETIF_IDF_V5_INPUT_FN -Iinclude -c tests/c/compile_test.cpp -o /tmp/ctpp5.o
#include "compile_test.c"
