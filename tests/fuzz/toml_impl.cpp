// toml++'s implementation, compiled once into the fuzzer with the sanitizers and coverage
// on (the main build links Debian's libtomlplusplus.so instead).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
