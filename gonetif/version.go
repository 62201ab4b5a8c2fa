package gonetif

// Version is gonetif's release number (tags are "v" + Version). It must
// equal GONETIF_VERSION in CMakeLists.txt; see docs/DESIGN.md, "Versions".
const Version = "0.2.0"
