# gonetif_gvisorfix(ROOT DIR OUT_STAMP OUT_FLAGS): a build step that writes
# the overlay fixing bugs of the pinned gVisor (cmd/gvisorfix, DESIGN D17)
# into DIR. OUT_FLAGS gets the go build flags that use it, OUT_STAMP a file
# to depend on. It reruns when go.mod, go.sum or the generator change, and
# fails the build when the edit no longer applies to the pinned gVisor.
function(gonetif_gvisorfix root dir out_stamp out_flags)
    file(GLOB fix_srcs CONFIGURE_DEPENDS "${root}/internal/gvisorfix/*.go" "${root}/internal/gvisorfix/files/*.go.in" "${root}/cmd/gvisorfix/*.go")
    list(FILTER fix_srcs EXCLUDE REGEX "_test\\.go$")
    add_custom_command(
        OUTPUT "${dir}/stamp"
        # GOFLAGS emptied: a -modfile/-overlay of an earlier run may be gone.
        COMMAND ${CMAKE_COMMAND} -E env GOFLAGS= "${GONETIF_GO}" run ./cmd/gvisorfix -o "${dir}"
        COMMAND ${CMAKE_COMMAND} -E touch "${dir}/stamp"
        WORKING_DIRECTORY "${root}"
        DEPENDS ${fix_srcs} "${root}/go.mod" "${root}/go.sum"
        COMMENT "Writing the gVisor fix overlay (cmd/gvisorfix)"
        VERBATIM)
    set(${out_stamp} "${dir}/stamp" PARENT_SCOPE)
    set(${out_flags} "-modfile=${dir}/go.mod" "-overlay=${dir}/overlay.json" PARENT_SCOPE)
endfunction()
